/**
 * p-retry, loaded with the first token request instead of at import: it is used only once a
 * request has been made, and importing the client is measured against importing undici alone
 * (issue 15), so nothing that waits for a first call belongs on the import path.
 *
 * @module p-retry-loader
 */

type PRetryModule = typeof import('p-retry')

let loading: Promise<PRetryModule> | undefined

/** The p-retry module, imported once per process on the first call. */
export function loadPRetry(): Promise<PRetryModule> {
  loading ??= import('p-retry')
  return loading
}
