/**
 * Stores for the fleet and failure tests: a wrapper around a real store that counts every call
 * and, when told to, fails every call the way a store that is down does (or in stranger ways a
 * custom store might).
 */
import { MemoryServerStore, type ServerStore, type StoreEvent } from '@oauth-m2m/server'
import { ASYNC_METHODS } from '../src/guarded-store.js'

/** How a {@link FaultyStore} fails. */
export type FailureMode =
  | 'none'
  /** Every call rejects with an Error whose message holds a secret-looking value. */
  | 'reject'
  /** Every call throws synchronously, a string rather than an Error. */
  | 'throw'
  /** Every call never settles (a store that hangs). */
  | 'hang'

/** What {@link FaultyStore} leaks in its errors, which must never reach an answer or a log. */
export const STORE_ERROR_SECRET = 'redis://:hunter2-password@10.0.0.1:6379'

/** A store that counts calls and fails on demand. */
export interface FaultyStore extends ServerStore {
  /** How calls fail from now on; `none` passes them to the wrapped store. */
  mode: FailureMode
  /** Every call's method name, in order. */
  readonly calls: string[]
  /** The wrapped store. */
  readonly inner: ServerStore
}

/** Every method that answers through a promise: the ones the server guards. */
const METHODS = ASYNC_METHODS

/** A {@link FaultyStore} over `inner` (default: a new MemoryServerStore). */
export function faultyStore(inner: ServerStore = new MemoryServerStore()): FaultyStore {
  const store = {
    mode: 'none' as FailureMode,
    calls: [] as string[],
    inner,
    subscribe(listener: (event: StoreEvent) => void): () => void {
      store.calls.push('subscribe')
      if (store.mode === 'throw') throw 'subscribe failed'
      return inner.subscribe(listener)
    },
  } as FaultyStore
  for (const name of METHODS) {
    ;(store as unknown as Record<string, unknown>)[name] = (...args: unknown[]) => {
      store.calls.push(name)
      switch (store.mode) {
        case 'reject':
          return Promise.reject(new Error(`${name} failed on ${STORE_ERROR_SECRET}`))
        case 'throw':
          throw `${name} failed on ${STORE_ERROR_SECRET}`
        case 'hang':
          return new Promise(() => undefined)
        default:
          return (inner[name] as (...a: unknown[]) => Promise<unknown>).apply(inner, args)
      }
    }
  }
  return store
}
