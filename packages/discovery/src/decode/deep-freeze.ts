/**
 * Freezes a value and everything reachable from it, so that a model or a snapshot handed to
 * the data plane cannot be changed by it (or by anyone holding a reference).
 */
export function deepFreeze<T>(value: T): T {
  freeze(value);
  return value;
}

/**
 * A frozen object is taken as frozen all the way down (it was frozen by this function, or is a
 * shared piece frozen where it was made), which keeps a large snapshot to one visit per object.
 */
function freeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value))
    return;
  Object.freeze(value);
  // Index and for...in loops: Object.values would allocate an array for each of the ~10^5
  // objects of a large snapshot. Messages are plain objects, so for...in sees own fields only.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) freeze(value[i]);
    return;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) freeze(record[key]);
}
