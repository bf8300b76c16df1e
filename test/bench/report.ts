/** The results table: each figure beside its target, PASS/MISS, or `info` when it has none. */

export type Status = 'PASS' | 'MISS' | 'info';

export interface ReportRow {
  readonly section: string;
  readonly metric: string;
  readonly value: string;
  readonly target: string;
  readonly status: Status;
}

export function row(
  section: string,
  metric: string,
  value: string,
  check?: { readonly target: string; readonly pass: boolean },
): ReportRow {
  return {
    section,
    metric,
    value,
    target: check?.target ?? '',
    status: check === undefined ? 'info' : check.pass ? 'PASS' : 'MISS',
  };
}

export function formatTable(rows: readonly ReportRow[]): string {
  const headers = ['section', 'metric', 'value', 'target', 'status'] as const;
  const width = headers.map((h) => Math.max(h.length, ...rows.map((r) => r[h].length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => c.padEnd(width[i]!))
      .join('  ')
      .trimEnd();
  const out = [line(headers), line(width.map((w) => '-'.repeat(w)))];
  let section = '';
  for (const r of rows) {
    if (r.section !== section && section !== '') out.push('');
    section = r.section;
    out.push(line([r.section, r.metric, r.value, r.target, r.status]));
  }
  return out.join('\n');
}

export const fmt = {
  ns: (v: number) => `${v.toFixed(1)} ns`,
  us: (v: number) => `${v.toFixed(2)} µs`,
  ms: (v: number) => `${v.toFixed(1)} ms`,
  ratio: (v: number) => `${v.toFixed(3)}x`,
  rps: (v: number) => `${Math.round(v).toLocaleString('en-US')} req/s`,
  bytes: (v: number) => `${Math.round(v).toLocaleString('en-US')} B`,
  mib: (v: number) => `${(v / 1048576).toFixed(1)} MiB`,
};
