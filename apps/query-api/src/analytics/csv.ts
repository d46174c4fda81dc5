/**
 * CSV (RFC 4180): comma-separated, CRLF line ends, a header row; a field is quoted when it holds a comma, a double
 * quote, CR or LF, with quotes doubled. Text that a spreadsheet would run as a formula (starting with `=`, `+`, `-`,
 * `@`, tab or CR) is prefixed with `'` (OWASP "CSV injection"). Numbers are written as is, null as an empty field.
 */

/** A CSV cell value. */
export type CsvValue = string | number | boolean | null;

/** One field, quoted and escaped as needed. */
export function csvField(v: CsvValue): string {
  if (v === null) return '';
  if (typeof v !== 'string') return String(v);
  const safe = /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** The whole document: header row, then one row per record (columns in `columns` order), CRLF after every row. */
export function toCsv<T>(columns: readonly { header: string; value: (row: T) => CsvValue }[], rows: readonly T[]): string {
  const lines = [columns.map((c) => csvField(c.header)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvField(c.value(r))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
