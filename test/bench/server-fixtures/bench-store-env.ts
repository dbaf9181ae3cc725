/** What the server-redis bench hands its store fixture (`oauth-m2m-store.ts`) in the environment. */

/** `memory` or `redis`. */
export const STORE_ENV = 'BENCH_STORE'
/** The redis:// URL of the bench's redis-server, with `BENCH_STORE=redis`. */
export const REDIS_URL_ENV = 'BENCH_REDIS_URL'
/** `jwt` or `opaque`. */
export const TOKEN_FORMAT_ENV = 'BENCH_TOKEN_FORMAT'
/** The public JWK (JSON) of the `private_key_jwt` client. */
export const ASSERTION_JWK_ENV = 'BENCH_ASSERTION_JWK'
/** Client id registered with `private_key_jwt`. */
export const ASSERTION_CLIENT_ID = 'bench-assertion-client'
