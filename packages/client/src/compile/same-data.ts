/**
 * Whether two decoded models hold the same configuration: plain data (objects, arrays, strings,
 * numbers, booleans, byte arrays), compared field by field. Envoy leaves a cluster whose
 * resource did not change alone (its hash is compared on every CDS update); this is the same
 * test on the models, so an update that changes one cluster leaves every other as it was.
 */
export function sameData(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (ArrayBuffer.isView(a) || ArrayBuffer.isView(b)) return sameBytes(a, b);
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  let count = 0;
  for (const key in ra) {
    count++;
    if (!(key in rb) || !sameData(ra[key], rb[key])) return false;
  }
  for (const _ in rb) count--;
  return count === 0;
}

function sameBytes(a: object, b: object): boolean {
  if (!(a instanceof Uint8Array) || !(b instanceof Uint8Array) || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
