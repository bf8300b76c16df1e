/**
 * A histogram's state as plain numbers: one count per bucket (not cumulative), plus the overflow
 * bucket, the sum and the count. Observing is a short scan and two additions, with no allocation
 * and no label lookup, so it can run on the request path; the cumulative `le` series Prometheus
 * wants are built only at scrape time.
 */
export class BucketCounts {
  /** Upper bounds, ascending; shared by every series of one metric. */
  readonly bounds: Float64Array;
  /** `counts[i]` observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: Float64Array) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Adds one observation. Prometheus buckets are inclusive: a value equal to a bound counts in it. */
  observe(value: number): void {
    const bounds = this.bounds;
    const n = bounds.length;
    // Linear, from the smallest bound: request durations and sizes sit in the first buckets, so
    // this usually stops after a few steps and beats a binary search over 19 bounds.
    let i = 0;
    while (i < n && value > bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }
}
