import { describe, expect, it } from 'vitest'
import { startExpressApp } from './apps.js'
import { bearerAuthConformance } from './conformance.js'
import { fakeVerifier } from './fake-verifier.js'
import { httpCall } from './http-call.js'

describe('Express middleware', () => {
  bearerAuthConformance(startExpressApp)

  it('answers 400 invalid_request to a token in a form body the app has parsed', async () => {
    const app = await startExpressApp({ verifier: fakeVerifier() })
    try {
      const answer = await httpCall(`${app.url}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'access_token=good.token',
      })
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.body)).toEqual({
        error: 'invalid_request',
        error_description: 'access tokens are not accepted in the request body; use Authorization: Bearer',
      })
    } finally {
      await app.close()
    }
  })

  it('accepts a form body without access_token beside the header', async () => {
    const app = await startExpressApp({ verifier: fakeVerifier() })
    try {
      const answer = await httpCall(`${app.url}/things`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: 'Bearer good.token' },
        body: 'name=thing',
      })
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toEqual({ clientId: 'service-a', scopes: ['read'] })
    } finally {
      await app.close()
    }
  })

  it('names two Authorization headers as several credentials', async () => {
    const app = await startExpressApp({ verifier: fakeVerifier() })
    try {
      const answer = await httpCall(`${app.url}/things`, {
        headers: { authorization: ['Bearer good.token', 'Bearer good.token'] },
      })
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.body).error_description).toBe(
        'the request carries more than one Authorization header',
      )
    } finally {
      await app.close()
    }
  })

  it("hands an unexpected verifier failure to the app's error handler", async () => {
    const app = await startExpressApp({ verifier: fakeVerifier() })
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
