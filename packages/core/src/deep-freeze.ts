/**
 * Freezing parsed JSON that is shared between callers, so that one caller cannot change what the
 * next one gets from a cache.
 *
 * @module deep-freeze
 */

/** Freezes `value` and every object and array inside it; returns `value`. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const member of Object.values(value)) deepFreeze(member)
    Object.freeze(value)
  }
  return value
}
