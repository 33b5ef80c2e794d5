/**
 * The one string order of the analysis: by UTF-16 code units, never by
 * locale (localeCompare differs between machines, and the report must be
 * byte-identical wherever it is synthesized).
 */
export function compareCodeUnits(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
