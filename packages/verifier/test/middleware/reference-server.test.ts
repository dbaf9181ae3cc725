/**
 * Each adapter with the real `createVerifier()` against the real reference server: tokens minted
 * over HTTP pass, a forged one is refused 401 `invalid_token`, a token without the route's scope is
 * refused 403 `insufficient_scope`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { APPS } from './apps.js'
import type { AppUnderTest } from './conformance.js'
import { httpCall } from './http-call.js'
import { OPAQUE_API, type ReferenceSetup, startReferenceSetup } from './reference-server.js'

let setup: ReferenceSetup
let readToken: string
let adminToken: string

beforeAll(async () => {
  setup = await startReferenceSetup()
  readToken = await setup.mint('read')
  adminToken = await setup.mint('read admin')
})
afterAll(() => setup.close())

describe.each(Object.entries(APPS))('%s middleware with the reference server', (_name, startApp) => {
  let app: AppUnderTest
  beforeAll(async () => {
    app = await startApp({ verifier: setup.verifier, realm: 'things', requiredScopes: ['read'] })
  })
  afterAll(() => app.close())

  it('lets a token minted by the server through with its Principal', async () => {
    const answer = await httpCall(`${app.url}/things`, { headers: { authorization: `Bearer ${readToken}` } })
    expect(answer.status).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({ clientId: 'service-a', scopes: ['read'] })
    const admin = await httpCall(`${app.url}/admin`, { headers: { authorization: `Bearer ${adminToken}` } })
    expect(JSON.parse(admin.body)).toEqual({ clientId: 'service-a', scopes: ['read', 'admin'] })
  })

  it('refuses a token with a tampered signature 401 invalid_token', async () => {
    const [header, payload, signature] = readToken.split('.') as [string, string, string]
    const flipped = signature.startsWith('A') ? `B${signature.slice(1)}` : `A${signature.slice(1)}`
    const answer = await httpCall(`${app.url}/things`, {
      headers: { authorization: `Bearer ${header}.${payload}.${flipped}` },
    })
    expect(answer.status).toBe(401)
    expect(answer.headers['www-authenticate']).toMatch(
      // createVerifier accepts DPoP-bound tokens by default: both schemes are challenged (RFC 9449 §7.1).
      /^Bearer realm="things", error="invalid_token", error_description="[^"]+", DPoP realm="things", algs="ES256 [^"]+"$/,
    )
    expect(JSON.parse(answer.body).error).toBe('invalid_token')
    expect(answer.body + String(answer.headers['www-authenticate'])).not.toContain(payload)
  })

  it('refuses a valid token without the route scope 403 insufficient_scope', async () => {
    const answer = await httpCall(`${app.url}/admin`, { headers: { authorization: `Bearer ${readToken}` } })
    expect(answer.status).toBe(403)
    expect(answer.headers['www-authenticate']).toMatch(
      /^Bearer realm="things", error="insufficient_scope", .*scope="read admin", DPoP realm="things", algs="[^"]+"$/,
    )
    expect(JSON.parse(answer.body).error).toBe('insufficient_scope')
  })
})

describe('an opaque token checked by introspection through the middleware', () => {
  it('reaches the handler with its Principal', async () => {
    const app = await APPS['node:http']({ verifier: setup.opaqueVerifier, requiredScopes: ['read'] })
    try {
      const token = await setup.mint('read', OPAQUE_API)
      expect(token.split('.')).toHaveLength(1)
      const answer = await httpCall(`${app.url}/things`, { headers: { authorization: `Bearer ${token}` } })
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toEqual({ clientId: 'service-a', scopes: ['read'] })
    } finally {
      await app.close()
    }
  })
})
