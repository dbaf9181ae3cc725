import { ConfigurationError } from '@oauth-m2m/core'
import { bearerAuth } from '@oauth-m2m/verifier/fetch'
import { describe, expect, it } from 'vitest'
import { startFetchApp } from './apps.js'
import { bearerAuthConformance } from './conformance.js'
import { fakeVerifier } from './fake-verifier.js'

describe('fetch handler check', () => {
  bearerAuthConformance(startFetchApp)

  it('resolves to the Principal itself for a valid token', async () => {
    const auth = bearerAuth({ verifier: fakeVerifier(), requiredScopes: ['read'] })
    const principal = await auth(
      new Request('http://127.0.0.1/things', { headers: { authorization: 'Bearer good.token' } }),
    )
    expect(principal).toMatchObject({ clientId: 'service-a', scopes: ['read'], source: 'jwt' })
  })

  it('refuses two Authorization headers, which Headers joins into one value', async () => {
    const headers = new Headers()
    headers.append('authorization', 'Bearer good.token')
    headers.append('authorization', 'Bearer admin.token')
    const verifier = fakeVerifier()
    const outcome = await bearerAuth({ verifier })(new Request('http://127.0.0.1/things', { headers }))
    expect(outcome).toBeInstanceOf(Response)
    const response = outcome as Response
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
    expect(verifier.calls).toEqual([])
  })

  it("passes the request's signal and the per-call scopes to verify()", async () => {
    const verifier = fakeVerifier()
    const controller = new AbortController()
    const request = new Request('http://127.0.0.1/things', {
      headers: { authorization: 'Bearer admin.token' },
      signal: controller.signal,
    })
    await bearerAuth({ verifier, requiredScopes: ['read'] })(request, { requiredScopes: ['admin'] })
    expect(verifier.calls).toHaveLength(1)
    expect(verifier.calls[0]?.requiredScopes).toEqual(['admin'])
    expect(verifier.calls[0]?.signal).toBe(request.signal)
  })

  it('keeps the configured requiredScopes when a call gives options without its own', async () => {
    const verifier = fakeVerifier()
    const request = new Request('http://127.0.0.1/things', {
      headers: { authorization: 'Bearer good.token' },
    })
    await bearerAuth({ verifier, requiredScopes: ['read'] })(request, {})
    expect(verifier.calls.map((c) => c.requiredScopes)).toEqual([['read']])
  })

  it('refuses the former per-call name scopes with a ConfigurationError naming requiredScopes', async () => {
    const verifier = fakeVerifier()
    const request = new Request('http://127.0.0.1/things', {
      headers: { authorization: 'Bearer good.token' },
    })
    const auth = bearerAuth({ verifier, requiredScopes: ['read'] })
    const err = await auth(request, { scopes: ['admin'] } as never).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigurationError)
    expect((err as Error).message).toBe('bearer auth: "scopes" is now named "requiredScopes"')
    expect(verifier.calls).toEqual([])
  })

  it('rejects on an unexpected verifier failure instead of inventing an answer', async () => {
    const auth = bearerAuth({ verifier: fakeVerifier() })
    const request = new Request('http://127.0.0.1/', { headers: { authorization: 'Bearer broken.token' } })
    await expect(auth(request)).rejects.toThrow('internal detail that must not reach the caller')
  })
})
