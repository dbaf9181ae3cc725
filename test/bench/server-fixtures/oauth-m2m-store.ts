/**
 * The oauth-m2m reference server (the built package) on the store the bench names, for the
 * server-redis bench: `BENCH_STORE` is `memory` (the default MemoryServerStore) or `redis`
 * (`redisServerStore` on `BENCH_REDIS_URL`, a key prefix of this process's own); `BENCH_TOKEN_FORMAT`
 * is `jwt` or `opaque`. Besides the basic bench client it registers a `private_key_jwt` client
 * whose public key is `BENCH_ASSERTION_JWK`.
 */
import { randomBytes } from 'node:crypto'
import { redisServerStore } from '@oauth-m2m/redis'
import { createAuthorizationServer } from '@oauth-m2m/server'
import type { JWK } from 'jose'
import { CLIENT_ID, CLIENT_SCOPE, CLIENT_SECRET, RESOURCE, TOKEN_LIFETIME_SEC } from './bench-client.js'
import {
  ASSERTION_CLIENT_ID,
  ASSERTION_JWK_ENV,
  REDIS_URL_ENV,
  STORE_ENV,
  TOKEN_FORMAT_ENV,
} from './bench-store-env.js'
import { serveFixture } from './fixture-protocol.js'

const tokenFormat = process.env[TOKEN_FORMAT_ENV] === 'opaque' ? 'opaque' : 'jwt'
const store =
  process.env[STORE_ENV] === 'redis'
    ? redisServerStore({
        url: process.env[REDIS_URL_ENV] as string,
        keyPrefix: `bench-${process.pid}:`,
        keyEncryptionKey: randomBytes(32),
      })
    : undefined
const assertionJwk = JSON.parse(process.env[ASSERTION_JWK_ENV] as string) as JWK

const server = await createAuthorizationServer({
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      scope: CLIENT_SCOPE,
    },
    {
      client_id: ASSERTION_CLIENT_ID,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks: { keys: [assertionJwk] },
      grant_types: ['client_credentials'],
      scope: CLIENT_SCOPE,
    },
  ],
  resources: [{ resource: RESOURCE, tokenFormat }],
  tokenFormat,
  accessTokenLifetimeSec: TOKEN_LIFETIME_SEC,
  signing: { alg: 'ES256' },
  ...(store === undefined ? {} : { store }),
})
const { url } = await server.listen({ port: 0, host: '127.0.0.1' })
serveFixture(url, async () => {
  await server.close()
  await store?.close()
})
