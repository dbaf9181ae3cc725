/**
 * Token stores for the fleet tests: a store shared by several clients in one test process stands
 * for a store shared by several processes. Each wraps a real `MemoryTokenStore` and changes one
 * thing: what it can do (no `waitForToken`), a lock holder that never comes back, or a store that
 * is down.
 */
import { MemoryTokenStore, type TokenSet, type TokenStore, type TokenStoreLock } from '../../src/index.js'

/** Calls made to a store, by method. */
export type StoreCalls = Record<'get' | 'set' | 'delete' | 'lock' | 'release' | 'waitForToken', number>

function noCalls(): StoreCalls {
  return { get: 0, set: 0, delete: 0, lock: 0, release: 0, waitForToken: 0 }
}

/** A `MemoryTokenStore` that counts its calls; `waitForToken: false` leaves that method out (waiters poll). */
export function countingStore(options: { waitForToken?: boolean } = {}): {
  store: TokenStore
  calls: StoreCalls
  inner: MemoryTokenStore
} {
  const inner = new MemoryTokenStore()
  const calls = noCalls()
  const store: TokenStore = {
    get: (key) => {
      calls.get++
      return inner.get(key)
    },
    set: (key, value, ttlMs) => {
      calls.set++
      inner.set(key, value, ttlMs)
    },
    delete: (key) => {
      calls.delete++
      inner.delete(key)
    },
    lock: (key, ttlMs) => {
      calls.lock++
      const lock = inner.lock(key, ttlMs)
      return (
        lock && {
          release: () => {
            calls.release++
            return lock.release()
          },
        }
      )
    },
  }
  if (options.waitForToken !== false) {
    store.waitForToken = (key, timeoutMs) => {
      calls.waitForToken++
      return inner.waitForToken(key, timeoutMs)
    }
  }
  return { store, calls, inner }
}

/**
 * A counting store whose first lock of each key goes to a holder that crashes at once: it holds
 * the lock (for the TTL the client asked) and never stores a token nor releases it.
 */
export function crashedHolderStore(options: { waitForToken?: boolean } = {}): {
  store: TokenStore
  calls: StoreCalls
  /** The locks the crashed holder took, never released. */
  abandoned: TokenStoreLock[]
} {
  const counted = countingStore(options)
  const abandoned: TokenStoreLock[] = []
  const lock = counted.store.lock!
  const crashed = new Set<string>()
  counted.store.lock = (key, ttlMs) => {
    if (!crashed.has(key)) {
      crashed.add(key)
      const taken = counted.inner.lock(key, ttlMs)
      if (taken) abandoned.push(taken)
    }
    return lock(key, ttlMs)
  }
  return { ...counted, abandoned }
}

/** A store that is down: every call rejects after a moment, as an unreachable Redis would. */
export function downStore(): { store: TokenStore; calls: StoreCalls } {
  const calls = noCalls()
  const fail = (method: keyof StoreCalls) => () => {
    calls[method]++
    return Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379'))
  }
  return {
    calls,
    store: {
      get: fail('get') as () => Promise<TokenSet | undefined>,
      set: fail('set') as () => Promise<void>,
      delete: fail('delete') as () => Promise<void>,
      lock: fail('lock') as () => Promise<TokenStoreLock | undefined>,
      waitForToken: fail('waitForToken') as () => Promise<TokenSet | undefined>,
    },
  }
}
