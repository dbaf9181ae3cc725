/**
 * The server's view of its {@link ServerStore}: a call that rejects or throws, whatever the store
 * threw (a custom store may throw anything), becomes a `StoreUnavailableError` naming the
 * operation, so that a request that needed the store is answered 503 `temporarily_unavailable`
 * with `Retry-After`, never 500, and never a token issued without its bookkeeping.
 *
 * @module guarded-store
 */
import { ConfigurationError, StoreUnavailableError } from '@oauth-m2m/core'
import { type EndpointResponse, oauthError } from './http-response.js'
import type { ServerStore } from './server-store.js'

/**
 * `Retry-After` of a 503 answered because the store failed, in seconds: long enough for a store
 * that restarts (a Redis failover takes seconds), short enough that clients come back soon after.
 */
export const STORE_RETRY_AFTER_SEC = 2

/** The store methods that answer through a promise, each guarded (and each a test wrapper wraps). */
export const ASYNC_METHODS = [
  'saveOpaqueToken',
  'findOpaqueToken',
  'deleteOpaqueToken',
  'revokeJti',
  'isJtiRevoked',
  'useOnce',
  'saveClient',
  'replaceClient',
  'findClient',
  'deleteClient',
  'loadSigningKeys',
  'saveSigningKeys',
  'countFailure',
  'publish',
  'ping',
] as const satisfies readonly (keyof ServerStore)[]

/** Whether `error` is a store failure: a `StoreUnavailableError`, or any error with its code. */
export function isStoreUnavailable(error: unknown): error is StoreUnavailableError {
  return (
    error instanceof StoreUnavailableError ||
    (error instanceof Error && (error as { code?: unknown }).code === 'ERR_STORE_UNAVAILABLE')
  )
}

/** `error` as a `StoreUnavailableError` naming `operation`; the store's own error is its `cause`. */
function storeFailure(operation: string, error: unknown): StoreUnavailableError {
  if (isStoreUnavailable(error)) return error
  // The message is ours: the store's may hold keys, values or a URL with a password.
  return new StoreUnavailableError(`the server store failed in ${operation}`, { cause: error })
}

/**
 * `store` with every asynchronous method guarded: a rejection or a synchronous throw becomes a
 * rejection with a `StoreUnavailableError`; `subscribe` throws one when the store's throws.
 *
 * @throws {ConfigurationError} naming the first {@link ServerStore} method `store` lacks (a store
 *   written before the interface grew), at start rather than on the first request that needs it.
 */
export function guardStore(store: ServerStore): ServerStore {
  for (const name of [...ASYNC_METHODS, 'subscribe'] as const) {
    if (typeof store[name] !== 'function') {
      throw new ConfigurationError(`invalid server configuration: store must implement ServerStore.${name}`)
    }
  }
  const guarded: Partial<ServerStore> = {
    subscribe(listener) {
      try {
        return store.subscribe(listener)
      } catch (error) {
        throw storeFailure('subscribe', error)
      }
    },
  }
  for (const name of ASYNC_METHODS) {
    const call = store[name] as (...args: unknown[]) => Promise<unknown>
    ;(guarded as Record<string, unknown>)[name] = async (...args: unknown[]) => {
      try {
        return await call.apply(store, args)
      } catch (error) {
        throw storeFailure(name, error)
      }
    }
  }
  return guarded as ServerStore
}

/** 503 `temporarily_unavailable` with `Retry-After`: the request needed the store, which failed. */
export function storeUnavailableAnswer(): EndpointResponse {
  return oauthError(503, 'temporarily_unavailable', 'the server cannot reach its store; retry later', {
    'retry-after': String(STORE_RETRY_AFTER_SEC),
  })
}
