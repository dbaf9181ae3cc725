import { type JsonResponse, requestJson } from '@oauth-m2m/core/internal'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ADMIN_PATH, createAdminHandler } from '../../src/cli/admin-endpoint.js'
import { devServerInfo } from '../../src/cli/dev-server-info.js'
import { type StartedAuthorizationServer, startAuthorizationServer } from '../../src/index.js'
import { type Reached, tokenRequest } from '../transports.js'

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

/** Sends a request to the server's own `handle()`, answered in process (quicker than a port). */
const inProcess: Pick<Reached, 'request'> = {
  async request(url, options = {}) {
    const { method, headers, body } = options
    const answer = await as.server.handle(new Request(url, { method, headers, body }))
    await answer.body?.cancel()
    // Only the status is read.
    return { status: answer.status } as JsonResponse
  },
}

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
          // Whatever the admin call changed (the clock, clients), the server still answers.
          as.restore()
          const token = await tokenRequest(inProcess, as.createClient())
          expect(token.status, `token endpoint after ${path} ${JSON.stringify(body)}`).toBeLessThan(500)
        },
      ),
      { numRuns: 400 },
    )
    as.restore()
    expect((await tokenRequest({ request: requestJson }, as.createClient())).status).toBeLessThan(500)
  }, 60_000)

  it('moves the clock only as far as the token endpoint can follow (Entra writes the time into its refusals)', async () => {
    const entra = await startAuthorizationServer({ profile: 'entra', issuerOrigin: 'server' })
    const admin = createAdminHandler({ server: entra, info: () => devServerInfo(entra, 'entra') })
    const far = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(8.64e15, -8.64e15, 8.64e15 + 1, 1e308, -1e308, Number.MAX_SAFE_INTEGER),
    )
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom('nowMs', 'advanceMs'), far, async (member, value) => {
          const res = await admin(
            new Request(`${ADMIN}/clock`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ [member]: value }),
            }),
          )
          expect(res.status, `${member} ${value}`).toBeLessThan(500)
          // No scope: refused with Entra's answer, which carries the server's time.
          const refused = await tokenRequest({ request: requestJson }, entra.createClient())
          expect(refused.status, `token endpoint after ${member} ${value}`).toBe(400)
        }),
        { numRuns: 100 },
      )
    } finally {
      await entra.close()
    }
  })

  it('refuses a client with a member the server does not know, naming it', async () => {
    const res = await post('/clients', JSON.stringify({ client_id: 'colourful', colour: 'red' }))
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ error: 'invalid_request', error_description: /"colour"/ })
    expect(as.server.getClient('colourful')).toBeUndefined()
    // RFC 7591 metadata the server keeps without using it is fine.
    const named = await post('/clients', JSON.stringify({ client_id: 'named', client_name: 'Orders job' }))
    expect(named.status).toBe(201)
    expect(await named.json()).toMatchObject({ client_id: 'named', client_name: 'Orders job' })
  })

  it.each([{ advanceMs: 1e308 }, { advanceMs: 0.5 }, { nowMs: 8.64e15 + 1 }, { nowMs: -1e300 }])(
    'refuses to move the clock by %o, and the token endpoint still answers',
    async (body) => {
      const before = as.clock.now()
      const res = await post('/clock', JSON.stringify(body))
      expect(res.status).toBe(400)
      expect(as.clock.now() - before).toBeLessThan(60_000)
      expect((await tokenRequest({ request: requestJson }, as.createClient())).status).toBe(200)
    },
  )

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
