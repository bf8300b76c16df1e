/**
 * Freezes a decoded model and everything in it, so that a model shared by every request cannot
 * be changed by one of them. Byte arrays stay as they are: a typed array with elements cannot be
 * frozen.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value) || ArrayBuffer.isView(value))
    return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
    return value;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) deepFreeze(record[key]);
  return value;
}
