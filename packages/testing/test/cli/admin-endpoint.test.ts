import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_PATH, createAdminHandler } from '../../src/cli/admin-endpoint.js'
import { devServerInfo } from '../../src/cli/dev-server-info.js'
import { type StartedAuthorizationServer, startAuthorizationServer } from '../../src/index.js'

const ADMIN = `http://127.0.0.1:1${ADMIN_PATH}`
const POST_PATHS = [
  '/clients',
  '/tokens',
  '/invalid-tokens',
  '/clock',
  '/fail-next',
  '/outage',
  '/restore',
  '/requests/take',
]

let as: StartedAuthorizationServer
let handle: (request: Request) => Promise<Response>

beforeAll(async () => {
  as = await startAuthorizationServer()
  handle = createAdminHandler({ server: as, seed: 'fuzz', info: () => devServerInfo(as, 'rfc9068') })
})
afterAll(() => as.close())

function post(path: string, body: string): Promise<Response> {
  return handle(
    new Request(`${ADMIN}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }),
  )
}

/** Member names the admin resources read, so that random bodies reach past the unknown-member check. */
const MEMBER = fc.constantFrom(
  'client_id',
  'scope',
  'token_endpoint_auth_method',
  'jwks',
  'client_secret',
  'resources',
  'clientId',
  'resource',
  'claims',
  'header',
  'expiresInSec',
  'notBeforeSec',
  'issuedAt',
  'kind',
  'nowMs',
  'advanceMs',
  'endpoint',
  'status',
  'error',
  'errorDescription',
  'retryAfterSec',
  'delayMs',
  'reset',
  'times',
  'method',
)
const VALUE = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(
    'token',
    'jwks',
    'expired',
    'private_key_jwt',
    'read',
    'test-client',
    -1,
    0,
    1e308,
    400,
    599,
  ),
)

describe('admin endpoint', () => {
  it('answers any JSON body on any resource with 2xx or a 4xx JSON error, never 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...POST_PATHS),
        fc.oneof(fc.dictionary(MEMBER, VALUE, { maxKeys: 4 }), fc.jsonValue({ maxDepth: 2 })),
        async (path, body) => {
          // Keep injected failures and delays from piling up between runs.
          as.restore()
          const value = body as Record<string, unknown>
          if (path === '/fail-next' && typeof value?.delayMs === 'number') value.delayMs = 0
          const res = await post(path, JSON.stringify(body))
          const text = await res.text()
          expect(res.status, `${path} ${JSON.stringify(body)} → ${text}`).toBeLessThan(500)
          if (res.status >= 400) expect(JSON.parse(text)).toHaveProperty('error')
        },
      ),
      { numRuns: 400 },
    )
    as.restore()
  }, 60_000)

  it('answers 404 outside its path and for unknown resources, 405 for another method', async () => {
    const at = (path: string, method = 'GET') => handle(new Request(`http://127.0.0.1:1${path}`, { method }))
    expect((await at('/')).status).toBe(404)
    expect((await at('/token', 'POST')).status).toBe(404)
    expect((await at(`${ADMIN_PATH}x`)).status).toBe(404)
    expect((await at(`${ADMIN_PATH}/clients/extra`, 'POST')).status).toBe(404)
    const res = await at(`${ADMIN_PATH}/clock`, 'DELETE')
    expect(res.status).toBe(405)
    expect(res.headers.get('allow')).toBe('GET, POST')
    expect((await at(`${ADMIN_PATH}/`)).status).toBe(200)
  })

  it('answers a client registered with its own keys without credentials', async () => {
    const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
    ])
    const jwk = await crypto.subtle.exportKey('jwk', publicKey)
    const res = await post(
      '/clients',
      JSON.stringify({
        client_id: 'own-keys',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk] },
      }),
    )
    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ client_id: 'own-keys', token_endpoint_auth_method: 'private_key_jwt' })
    expect(body.private_jwk).toBeUndefined()
    // Minting for it needs credentials the server does not have: a 400, not a crash.
    const minted = await post('/tokens', JSON.stringify({ clientId: 'own-keys' }))
    expect(minted.status).toBe(400)
  })
})
