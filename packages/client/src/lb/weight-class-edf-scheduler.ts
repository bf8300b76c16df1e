/**
 * Envoy's EDF scheduler (see edf-scheduler.ts) for entries whose weights never change (weighted
 * round robin, locality picks), keeping a heap over the distinct weights instead of over the
 * entries. A pick costs log(#distinct weights) instead of log(#entries); typical meshes have a
 * handful of distinct endpoint weights.
 *
 * Why the pick sequence is identical to {@link EdfScheduler}: entries of equal weight `w` get the
 * same initial deadline `(floor(w' * P / W') + 1) / w'` (it depends on nothing but `w`; `w'` is
 * `w + 1e-13`) and orders ascending with their index, and every pick moves an entry's deadline
 * one step along the same chain `x -> fl(x + 1 / w)`. So within a weight class the deadlines are
 * `x_j` or `x_(j+1)` for one `j`, the earliest (deadline, order) of the class is always the entry
 * that was re-inserted longest ago, and a re-inserted entry (largest order, deadline `x_(j+1)` or
 * later, since `fl` is monotone) sorts after every other entry of its class: each class is a
 * FIFO rotation. The global earliest key is therefore the earliest among the class fronts, which
 * is what the heap over classes yields, with the same (deadline, order) comparison. The
 * `weight-class-edf-scheduler.test.ts` equivalence test checks this against EdfScheduler.
 */
export class WeightClassEdfScheduler {
  // Slots hold the entries grouped by class, in rotation order from the class's head.
  private readonly slotEntry: Int32Array;
  private readonly slotDeadline: Float64Array;
  private readonly slotOrder: Float64Array;
  private readonly classStart: Int32Array;
  private readonly classSize: Int32Array;
  private readonly classHead: Int32Array;
  /** `1 / w` of each class: Envoy adds `1 / weight` to the picked deadline. */
  private readonly classStep: Float64Array;
  /** Heap of class ids by their front slot's (deadline, order). */
  private readonly heap: Int32Array;
  private readonly keyDeadline: Float64Array;
  private readonly keyOrder: Float64Array;
  private readonly classes: number;
  private nextOrder: number;

  /**
   * Same construction as {@link EdfScheduler}: as if `picks % 429496729` picks had been made.
   *
   * @param weights weight of each entry, fixed for the scheduler's life; all must be > 0.
   */
  constructor(weights: ArrayLike<number>, picks: number) {
    const n = weights.length;
    const classOf = new Int32Array(n);
    const ids = new Map<number, number>();
    const classWeights: number[] = [];
    for (let i = 0; i < n; i++) {
      const w = weights[i]!;
      let c = ids.get(w);
      if (c === undefined) {
        c = classWeights.length;
        ids.set(w, c);
        classWeights.push(w);
      }
      classOf[i] = c;
    }
    const k = classWeights.length;
    this.classes = k;
    this.classStart = new Int32Array(k);
    this.classSize = new Int32Array(k);
    this.classHead = new Int32Array(k);
    this.classStep = new Float64Array(k);
    this.heap = new Int32Array(k);
    this.keyDeadline = new Float64Array(k);
    this.keyOrder = new Float64Array(k);
    this.slotEntry = new Int32Array(n);
    this.slotDeadline = new Float64Array(n);
    this.slotOrder = new Float64Array(n);
    this.nextOrder = n;
    if (n === 0) return;
    for (let i = 0; i < n; i++) this.classSize[classOf[i]!]!++;
    for (let c = 1; c < k; c++) this.classStart[c] = this.classStart[c - 1]! + this.classSize[c - 1]!;
    const total = picks % 429496729;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += weights[i]! + 1e-13;
    // The bulk pre-picks exactly as EdfScheduler computes them, per class (they depend on the
    // weight only), then entries in index order within each class.
    let done = 0;
    const fill = new Int32Array(k);
    for (let i = 0; i < n; i++) {
      const c = classOf[i]!;
      const w = weights[i]! + 1e-13;
      let floorPicks = Math.floor((w * total) / sum);
      if (floorPicks > 0 && floorPicks / w >= total / sum) floorPicks--;
      const s = this.classStart[c]! + fill[c]!++;
      this.slotEntry[s] = i;
      this.slotDeadline[s] = (floorPicks + 1) / w;
      this.slotOrder[s] = i;
      done += floorPicks;
    }
    for (let c = 0; c < k; c++) {
      this.classStep[c] = 1 / classWeights[c]!;
      const s = this.classStart[c]!;
      this.keyDeadline[c] = this.slotDeadline[s]!;
      this.keyOrder[c] = this.slotOrder[s]!;
      this.siftUp(c, c);
    }
    while (done < total) {
      this.pickAndAdd();
      done++;
    }
  }

  /** Picks the entry with the earliest deadline and re-inserts it one period later; -1 if empty. */
  pickAndAdd(): number {
    if (this.classes === 0) return -1;
    const c = this.heap[0]!;
    let head = this.classHead[c]!;
    const s = this.classStart[c]! + head;
    const picked = this.slotEntry[s]!;
    this.slotDeadline[s] = this.slotDeadline[s]! + this.classStep[c]!;
    this.slotOrder[s] = this.nextOrder++;
    head++;
    if (head === this.classSize[c]!) head = 0;
    this.classHead[c] = head;
    const front = this.classStart[c]! + head;
    this.keyDeadline[c] = this.slotDeadline[front]!;
    this.keyOrder[c] = this.slotOrder[front]!;
    this.siftDown(c);
    return picked;
  }

  private before(a: number, b: number): boolean {
    const da = this.keyDeadline[a]!;
    const db = this.keyDeadline[b]!;
    return da < db || (da === db && this.keyOrder[a]! < this.keyOrder[b]!);
  }

  private siftUp(i: number, c: number): void {
    const heap = this.heap;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (this.before(heap[p]!, c)) break;
      heap[i] = heap[p]!;
      i = p;
    }
    heap[i] = c;
  }

  /** The root's key only grew: move class `c` down from the root. */
  private siftDown(c: number): void {
    const heap = this.heap;
    const k = this.classes;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= k) break;
      if (child + 1 < k && this.before(heap[child + 1]!, heap[child]!)) child++;
      if (this.before(c, heap[child]!)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = c;
  }
}
