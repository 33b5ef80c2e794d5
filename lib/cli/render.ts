/** Human output: aligned text tables and durations. */

export function renderTable(headers: string[], rows: (string | number | undefined)[][]): string {
  const cells = [headers, ...rows.map(r => r.map(c => (c === undefined ? '-' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map(r => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i])))
      .join('  ')
      .trimEnd();
  return [line(cells[0]), line(widths.map(w => '-'.repeat(w))), ...cells.slice(1).map(line)].join('\n') + '\n';
}

/** e.g. "2d 3h", "45m", "-1h 5m" (negative: in the past). */
export function formatTimeLeft(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  let s = Math.floor(Math.abs(ms) / 1000);
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  if (d > 0) return `${sign}${d}d ${h}h`;
  if (h > 0) return `${sign}${h}h ${m}m`;
  return `${sign}${m}m`;
}
