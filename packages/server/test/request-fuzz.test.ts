import { JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: AuthorizationServer
let url: string
const unhandled: unknown[] = []
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason)
}

beforeAll(async () => {
  process.on('unhandledRejection', onUnhandled)
  server = await createAuthorizationServer({
    clients: [
      { client_id: 'svc', client_secret: 'svc-secret', scope: 'read write' },
      {
        client_id: 'hs',
        client_secret: 'hs-secret-hs-secret-hs-secret-hs',
        token_endpoint_auth_method: 'client_secret_jwt',
      },
      { client_id: 'pub', token_endpoint_auth_method: 'none' },
    ],
    resources: [
      { resource: 'https://api.example.com/' },
      { resource: 'https://o.example.com/', tokenFormat: 'opaque' },
    ],
  })
  ;({ url } = await server.listen({ port: 0, host: '127.0.0.1' }))
})

afterAll(async () => {
  process.off('unhandledRejection', onUnhandled)
  await server.close()
})

const names = fc.constantFrom(
  'grant_type',
  'scope',
  'resource',
  'client_id',
  'client_secret',
  'client_assertion',
  'client_assertion_type',
  'token',
  'token_type_hint',
  'x',
)
const values = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    'client_credentials',
    'svc',
    'svc-secret',
    'read',
    'https://api.example.com/',
    'https://o.example.com/',
    JWT_BEARER_ASSERTION_TYPE,
    'eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJocyJ9.c2ln',
    'eyJhbGciOiJub25lIn0.e30.',
    'A'.repeat(43),
  ),
)
const formBody = fc
  .array(fc.tuple(names, values), { maxLength: 8 })
  .map((pairs) => pairs.map(([n, v]) => `${encodeURIComponent(n)}=${encodeURIComponent(v)}`).join('&'))
const body = fc.oneof(
  formBody,
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.string({ maxLength: 200 }),
  fc.constant(''),
)
const contentType = fc.oneof(
  fc.constantFrom(
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=utf-8',
    'APPLICATION/X-WWW-FORM-URLENCODED;charset="UTF-8"',
    'application/json',
    'text/plain',
    'multipart/form-data; boundary=x',
    ';;;==',
  ),
  fc.string({ maxLength: 40 }),
)
const authorization = fc.oneof(
  fc.constant(undefined),
  fc.constant(encodeBasicCredentials('svc', 'svc-secret')),
  fc.constant(encodeBasicCredentials('svc', 'wrong')),
  fc.string({ maxLength: 60 }).map((s) => `Basic ${s}`),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => `Basic ${Buffer.from(s).toString('base64')}`),
  fc.string({ maxLength: 60 }),
)
const request = fc.record({
  path: fc.constantFrom('/token', '/introspect', '/revoke'),
  method: fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE'),
  contentType,
  authorization,
  body,
})

describe('any request to /token, /introspect and /revoke', () => {
  it('gets a well-formed answer below 500, over HTTP and through handle(Request)', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const headers: Record<string, string> = { 'content-type': r.contentType }
        if (r.authorization !== undefined) headers.authorization = r.authorization
        const init: RequestInit = { method: r.method, headers }
        if (r.method !== 'GET') init.body = r.body
        const overHttp = await fetch(`${url}${r.path}`, init)
        const httpText = await overHttp.text()
        expect(overHttp.status).toBeLessThan(500)
        if (overHttp.status >= 400) {
          const error = JSON.parse(httpText) as { error: unknown; error_description: unknown }
          expect(typeof error.error).toBe('string')
          expect(error.error_description).toMatch(/^[\x20\x21\x23-\x5b\x5d-\x7e]*$/)
        }
        const viaHandle = await server.handle(new Request(`${url}${r.path}`, init))
        expect(viaHandle.status).toBeLessThan(500)
        await viaHandle.text()
      }),
      { numRuns: 300 },
    )
    await new Promise((resolve) => setImmediate(resolve))
    expect(unhandled).toEqual([])
  })
})
