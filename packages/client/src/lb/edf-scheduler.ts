/**
 * Envoy's earliest-deadline-first scheduler (source/common/upstream/edf_scheduler.h), used for
 * weighted round robin, weighted least request and locality picks. Each entry's next deadline
 * is `now + 1 / weight`; the smallest deadline is picked, ties go to the earlier insertion.
 * Entries are indices into the caller's array; the heap lives in typed arrays so a pick does
 * not allocate.
 */
export class EdfScheduler {
  private readonly deadline: Float64Array;
  private readonly order: Float64Array;
  private readonly entry: Int32Array;
  private readonly size: number;
  private now = 0;
  private nextOrder: number;

  /**
   * Builds the scheduler as Envoy's `createWithPicks` does: as if `picks` picks had already
   * been made (Envoy passes a random seed here so that every worker starts at a different
   * point of the schedule). `picks` is reduced modulo 429496729 as in Envoy.
   *
   * @param weights initial weight of each entry; all must be > 0.
   * @param weightOf the weight used when an entry is re-inserted after a pick.
   */
  constructor(weights: ArrayLike<number>, picks: number, weightOf: (index: number) => number) {
    const n = weights.length;
    this.size = n;
    this.deadline = new Float64Array(n);
    this.order = new Float64Array(n);
    this.entry = new Int32Array(n);
    this.nextOrder = n;
    if (n === 0) return;
    const total = picks % 429496729;
    // Emulate floor(P * w_i / W) picks of every entry at once, then make the few remaining
    // picks one by one. Envoy adds 1e-13 to each weight so that weights that are multiples of
    // each other do not tie differently than a scheduler that really made those picks.
    let sum = 0;
    for (let i = 0; i < n; i++) sum += weights[i]! + 1e-13;
    let done = 0;
    let maxPickTime = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]! + 1e-13;
      let floorPicks = Math.floor((w * total) / sum);
      // Floating point may round floor(A*B) above A*B; Envoy backs off by one pick then.
      if (floorPicks > 0 && floorPicks / w >= total / sum) floorPicks--;
      this.deadline[i] = (floorPicks + 1) / w;
      this.order[i] = i;
      this.entry[i] = i;
      maxPickTime = Math.max(maxPickTime, floorPicks / w);
      done += floorPicks;
    }
    this.now = maxPickTime;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.siftDown(i);
    while (done < total) {
      this.pickAndAdd(weightOf);
      done++;
    }
  }

  /**
   * Picks the entry with the earliest deadline and re-inserts it with `weightOf(entry)`,
   * evaluated now (least request uses this to account for the host's current load).
   * Returns -1 when the scheduler is empty.
   */
  pickAndAdd(weightOf: (index: number) => number): number {
    if (this.size === 0) return -1;
    const picked = this.entry[0]!;
    this.now = this.deadline[0]!;
    // Replacing the root and sifting down is pop + push in one pass.
    this.deadline[0] = this.now + 1 / weightOf(picked);
    this.order[0] = this.nextOrder++;
    this.siftDown(0);
    return picked;
  }

  private less(a: number, b: number): boolean {
    const da = this.deadline[a]!;
    const db = this.deadline[b]!;
    return da < db || (da === db && this.order[a]! < this.order[b]!);
  }

  private siftDown(start: number): void {
    const n = this.size;
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.less(r, l) ? r : l;
      if (!this.less(c, i)) return;
      this.swap(i, c);
      i = c;
    }
  }

  private swap(a: number, b: number): void {
    const d = this.deadline[a]!;
    this.deadline[a] = this.deadline[b]!;
    this.deadline[b] = d;
    const o = this.order[a]!;
    this.order[a] = this.order[b]!;
    this.order[b] = o;
    const e = this.entry[a]!;
    this.entry[a] = this.entry[b]!;
    this.entry[b] = e;
  }
}
