/**
 * RFC 4180 CSV: fields holding a comma, a quote or a line break are quoted, quotes doubled,
 * records end with CRLF.
 */
export function csvRecord(fields: readonly string[]): string {
  return `${fields.map(csvField).join(',')}\r\n`;
}

function csvField(value: string): string {
  return /[",\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/**
 * Text from outside (a customer's email, a description, anything an event carries) could start a
 * spreadsheet formula; a leading apostrophe makes spreadsheets show it as text (OWASP's advice for
 * CSV injection).
 */
export function inertText(value: string): string {
  return /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
}
