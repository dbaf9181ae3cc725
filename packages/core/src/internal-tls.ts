/**
 * `@oauth-m2m/core/internal/tls`: the undici `Agent` a mutual-TLS strategy sends through. Apart
 * from `@oauth-m2m/core/internal` because it loads undici when imported, which only the token
 * client (that sends requests anyway) should pay for. Not a public API.
 *
 * @internal
 * @packageDocumentation
 */
export { authenticatingDispatcher, tlsClientDispatcher } from './client-auth/tls-client-dispatcher.js'
