/**
 * Envoy's earliest-deadline-first scheduler (source/common/upstream/edf_scheduler.h), used for
 * weighted round robin, weighted least request and locality picks. Each entry's next deadline
 * is `now + 1 / weight`; the smallest deadline is picked, ties go to the earlier insertion.
 * Entries are indices into the caller's array; the heap lives in typed arrays so a pick does
 * not allocate.
 */
export class EdfScheduler {
  // Heap slot i holds (deadline[i], order[i], entry[i]); slot `size` is a sentinel that never
  // wins (+Infinity), so a node's right child can be read without a bounds check.
  private readonly deadline: Float64Array;
  private readonly order: Float64Array;
  private readonly entry: Int32Array;
  private readonly size: number;
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
    this.deadline = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
    this.order = new Float64Array(n + 1).fill(Number.POSITIVE_INFINITY);
    this.entry = new Int32Array(n + 1);
    this.nextOrder = n;
    if (n === 0) return;
    const total = picks % 429496729;
    // Emulate floor(P * w_i / W) picks of every entry at once, then make the few remaining
    // picks one by one. Envoy adds 1e-13 to each weight so that weights that are multiples of
    // each other do not tie differently than a scheduler that really made those picks.
    let sum = 0;
    for (let i = 0; i < n; i++) sum += weights[i]! + 1e-13;
    let done = 0;
    for (let i = 0; i < n; i++) {
      const w = weights[i]! + 1e-13;
      let floorPicks = Math.floor((w * total) / sum);
      // Floating point may round floor(A*B) above A*B; Envoy backs off by one pick then.
      if (floorPicks > 0 && floorPicks / w >= total / sum) floorPicks--;
      // (deadline, order) keys are unique, so any valid heap yields the same pick sequence.
      this.place(i, (floorPicks + 1) / w, i, i);
      done += floorPicks;
    }
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
    const n = this.size;
    if (n === 0) return -1;
    const deadline = this.deadline;
    const order = this.order;
    const entry = this.entry;
    const picked = entry[0]!;
    const now = deadline[0]!;
    const d = now + 1 / weightOf(picked);
    const o = this.nextOrder++;
    // Pop + push in one pass, bottom-up (Floyd): walk the hole left at the root down to a leaf
    // along the smaller children, one comparison per level, then place the new key by sifting
    // it up from there. A re-inserted key is one period later than the root, so it belongs
    // near the leaves and the sift up is short. The child choice is arithmetic rather than a
    // branch because it is a coin flip the CPU cannot predict; exact ties (rare) take the
    // branch and go to the earlier insertion.
    let i = 0;
    let c = 1;
    while (c < n) {
      const dl = deadline[c]!;
      const dr = deadline[c + 1]!;
      let right = dr < dl;
      if (dr === dl) right = order[c + 1]! < order[c]!;
      c += +right;
      deadline[i] = deadline[c]!;
      order[i] = order[c]!;
      entry[i] = entry[c]!;
      i = c;
      c = 2 * i + 1;
    }
    this.place(i, d, o, picked);
    return picked;
  }

  /** Sifts key (d, o) for `e` up from the free slot `i`. */
  private place(i: number, d: number, o: number, e: number): void {
    const deadline = this.deadline;
    const order = this.order;
    const entry = this.entry;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const dp = deadline[p]!;
      if (dp < d || (dp === d && order[p]! < o)) break;
      deadline[i] = dp;
      order[i] = order[p]!;
      entry[i] = entry[p]!;
      i = p;
    }
    deadline[i] = d;
    order[i] = o;
    entry[i] = e;
  }
}
