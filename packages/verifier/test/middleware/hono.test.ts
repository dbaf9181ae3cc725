import { type BearerAuthEnv, bearerAuth } from '@oauth-m2m/verifier/hono'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { startHonoApp } from './apps.js'
import { bearerAuthConformance } from './conformance.js'
import { fakeVerifier } from './fake-verifier.js'
import { httpCall } from './http-call.js'

describe('Hono middleware', () => {
  bearerAuthConformance(startHonoApp)

  it('passes the raw request signal to verify(), so an aborted request stops waiting', async () => {
    const verifier = fakeVerifier()
    const app = new Hono<BearerAuthEnv>()
    app.use('*', bearerAuth({ verifier }))
    app.get('/things', (c) => c.text(c.get('auth').clientId))
    const controller = new AbortController()
    const response = await app.request('/things', {
      headers: { authorization: 'Bearer good.token' },
      signal: controller.signal,
    })
    expect(await response.text()).toBe('service-a')
    expect(verifier.calls[0]?.signal).toBeInstanceOf(AbortSignal)
  })

  it('keeps headers other middleware set before it on a refusal', async () => {
    const app = new Hono<BearerAuthEnv>()
    app.use('*', async (c, next) => {
      c.header('X-Request-Id', 'r-1')
      await next()
    })
    app.use('*', bearerAuth({ verifier: fakeVerifier() }))
    app.get('/things', (c) => c.text('ok'))
    const response = await app.request('/things')
    expect(response.status).toBe(401)
    expect(response.headers.get('x-request-id')).toBe('r-1')
    expect(response.headers.get('www-authenticate')).toBe('Bearer')
  })

  it("hands an unexpected verifier failure to the app's onError", async () => {
    const app = await startHonoApp({ verifier: fakeVerifier() })
    try {
      const answer = await httpCall(`${app.url}/things`, {
        headers: { authorization: 'Bearer broken.token' },
      })
      expect(answer.status).toBe(500)
      expect(JSON.parse(answer.body)).toEqual({
        handledByApp: 'internal detail that must not reach the caller',
      })
    } finally {
      await app.close()
    }
  })
})
