/** Types of `parse-prometheus-text-format` (it ships none): text exposition in, metric families out. */
declare module 'parse-prometheus-text-format' {
  /** @throws {Error} on malformed exposition text. */
  export default function parsePrometheusTextFormat(text: string): unknown[];
}
