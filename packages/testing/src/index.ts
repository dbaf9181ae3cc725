/**
 * `@oauth-m2m/testing`: helpers for testing code that uses oauth-m2m.
 *
 * @packageDocumentation
 */
export * from './msw-undici.js'
