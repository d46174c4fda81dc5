/** The quick start's secrets file, `.eventcast/secrets.env`: one `NAME=value` a line. */

/**
 * Parses the text of a secrets file: lines `NAME=value` (NAME: `[A-Z_][A-Z0-9_]*`, the value is everything after the
 * first `=`, surrounding whitespace of the line trimmed, no quoting or escapes); comments (`# …`), blank lines and
 * anything else are skipped. A later line wins over an earlier one with the same NAME.
 * @returns the values by name.
 */
export function parseSecretsFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1] && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}
