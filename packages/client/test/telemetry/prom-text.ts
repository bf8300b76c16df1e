/**
 * A strict reader for the Prometheus text exposition format, enough to check what a scrape sees:
 * HELP/TYPE lines per family and every sample with its labels in order.
 */
export interface Sample {
  readonly name: string;
  /** Label pairs in the order they were written. */
  readonly labels: readonly (readonly [string, string])[];
  readonly value: number;
}

export interface Exposition {
  readonly help: ReadonlyMap<string, string>;
  readonly type: ReadonlyMap<string, string>;
  readonly samples: readonly Sample[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/y;

export function parseExposition(text: string): Exposition {
  const help = new Map<string, string>();
  const type = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const meta = /^# (HELP|TYPE) (\S+) (.*)$/.exec(line);
    if (meta !== null) {
      (meta[1] === 'HELP' ? help : type).set(meta[2]!, meta[3]!);
      continue;
    }
    const m = SAMPLE.exec(line);
    if (m === null) throw new Error(`not a sample line: ${line}`);
    const labels: [string, string][] = [];
    const body = m[2] ?? '';
    LABEL.lastIndex = 0;
    while (LABEL.lastIndex < body.length) {
      const l = LABEL.exec(body);
      if (l === null) throw new Error(`bad labels: ${body}`);
      labels.push([l[1]!, l[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]);
    }
    samples.push({ name: m[1]!, labels, value: m[3] === '+Inf' ? Number.POSITIVE_INFINITY : Number(m[3]) });
  }
  return { help, type, samples };
}

/** The value of a label of a sample. */
export function label(sample: Sample, name: string): string | undefined {
  return sample.labels.find(([k]) => k === name)?.[1];
}

/** Samples of one name whose labels include every pair of `where`. */
export function select(
  exp: Exposition,
  name: string,
  where: Readonly<Record<string, string>> = {},
): Sample[] {
  return exp.samples.filter(
    (s) => s.name === name && Object.entries(where).every(([k, v]) => label(s, k) === v),
  );
}
