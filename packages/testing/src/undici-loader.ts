/**
 * undici for the test server's dispatchers, loaded when a server is created rather than when the
 * package is imported: undici is the largest import there is, and a suite that only imports
 * `@oauth-m2m/testing` (or runs on another worker) should not pay for it.
 *
 * @module undici-loader
 */

type Undici = typeof import('undici')

let loaded: Undici | undefined

/** Loads undici once; every function that creates a test server awaits it first. */
export async function loadUndici(): Promise<Undici> {
  loaded ??= await import('undici')
  return loaded
}

/** Hands over undici when it is already imported (the msw entry imports it statically). */
export function provideUndici(undici: Undici): void {
  loaded ??= undici
}

/** undici, which {@link loadUndici} or {@link provideUndici} has loaded. */
export function undici(): Undici {
  if (loaded === undefined) throw new Error('internal: undici is used before a test server was created')
  return loaded
}
