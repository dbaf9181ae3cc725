/**
 * A bound on the number of entries of an lru-cache that costs nothing until entries arrive.
 *
 * lru-cache's `max` allocates its index arrays for all `max` entries when the cache is made: the
 * server's default tables (100 000 opaque tokens, revoked and used ids; 10 000 rate-limit windows
 * and locks) cost a few MB and about 100 ms at every server start, which a test suite that starts
 * many servers pays many times. Counted with `maxSize` instead (every entry of size 1), the same
 * bound holds, the least recently used entry still goes first, and the arrays grow with use.
 *
 * @module lru-capacity
 */

/** The lru-cache options that bound a cache to `capacity` entries without preallocating them. */
export interface LruCapacityOptions {
  maxSize: number
  sizeCalculation: () => number
}

const ONE = (): number => 1

/** lru-cache options for at most `capacity` entries, allocated as they come. */
export function lruCapacity(capacity: number): LruCapacityOptions {
  return { maxSize: capacity, sizeCalculation: ONE }
}
