import { bearerAuth } from '@oauth-m2m/verifier/fastify'
import Fastify from 'fastify'
import { describe, expect, it } from 'vitest'
import { listenFastify as listen, principalSummary, startFastifyApp } from './apps.js'
import { bearerAuthConformance } from './conformance.js'
import { fakeVerifier } from './fake-verifier.js'
import { httpCall } from './http-call.js'

describe('Fastify plugin', () => {
  bearerAuthConformance(startFastifyApp)

  it('leaves a route with config.bearerAuth false open, with request.auth null', async () => {
    const app = await startFastifyApp({ verifier: fakeVerifier() })
    try {
      const answer = await httpCall(`${app.url}/health`)
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body)).toEqual({ open: true, auth: null })
    } finally {
      await app.close()
    }
  })

  it('with global: false protects only the routes that ask for it', async () => {
    const verifier = fakeVerifier()
    const app = Fastify()
    await app.register(bearerAuth, { verifier, global: false })
    app.get('/public', async () => 'public')
    app.get('/private', { config: { bearerAuth: {} } }, async (request) => principalSummary(request.auth))
    const running = await listen(app)
    try {
      expect((await httpCall(`${running.url}/public`)).status).toBe(200)
      expect((await httpCall(`${running.url}/private`)).status).toBe(401)
      const answer = await httpCall(`${running.url}/private`, {
        headers: { authorization: 'Bearer good.token' },
      })
      expect(JSON.parse(answer.body)).toEqual({ clientId: 'service-a', scopes: ['read'] })
      expect(verifier.calls.map((c) => c.requiredScopes)).toEqual([undefined])
    } finally {
      await running.close()
    }
  })

  it('refuses resourceMetadata under a prefix, where the document could not be found', async () => {
    const app = Fastify()
    const registered = app.register(
      async (child) => {
        await child.register(bearerAuth, {
          verifier: fakeVerifier(),
          resourceMetadata: {
            resource: 'https://api.example.com/api',
            authorizationServers: ['https://as.example'],
          },
        })
      },
      { prefix: '/api' },
    )
    await expect(registered).rejects.toThrow(/resourceMetadata is served at the root of the host/)
    await app.close()
  })

  it('is not encapsulated: registered in a child context it protects that context only', async () => {
    const app = Fastify()
    await app.register(async (child) => {
      await child.register(bearerAuth, { verifier: fakeVerifier() })
      child.get('/inside', async (request) => principalSummary(request.auth))
    })
    app.get('/outside', async () => 'outside')
    const running = await listen(app)
    try {
      expect((await httpCall(`${running.url}/inside`)).status).toBe(401)
      expect((await httpCall(`${running.url}/outside`)).status).toBe(200)
    } finally {
      await running.close()
    }
  })

  it('runs before route-level onRequest hooks, so they see request.auth', async () => {
    const app = Fastify()
    await app.register(bearerAuth, { verifier: fakeVerifier() })
    let seen: unknown
    app.get(
      '/things',
      {
        onRequest: async (request) => {
          seen = request.auth?.clientId
        },
      },
      async () => 'ok',
    )
    const running = await listen(app)
    try {
      await httpCall(`${running.url}/things`, { headers: { authorization: 'Bearer good.token' } })
      expect(seen).toBe('service-a')
    } finally {
      await running.close()
    }
  })

  it('names two Authorization headers as several credentials', async () => {
    const app = await startFastifyApp({ verifier: fakeVerifier() })
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

  it("hands an unexpected verifier failure to Fastify's error handler", async () => {
    const app = Fastify()
    app.setErrorHandler((error: Error, _request, reply) => {
      void reply.code(500).send({ handledByApp: error.message })
    })
    await app.register(bearerAuth, { verifier: fakeVerifier() })
    app.get('/things', async () => 'ok')
    const running = await listen(app)
    try {
      const answer = await httpCall(`${running.url}/things`, {
        headers: { authorization: 'Bearer broken.token' },
      })
      expect(answer.status).toBe(500)
      expect(JSON.parse(answer.body)).toEqual({
        handledByApp: 'internal detail that must not reach the caller',
      })
    } finally {
      await running.close()
    }
  })

  it('refuses the former route option name scopes when the route is declared', async () => {
    const app = Fastify()
    await app.register(bearerAuth, { verifier: fakeVerifier() })
    expect(() =>
      app.get('/old', { config: { bearerAuth: { scopes: ['read'] } as never } }, async () => 'x'),
    ).toThrow('bearerAuth of route GET /old: "scopes" is now named "requiredScopes"')
    await app.close()
  })

  it('refuses an invalid route scope when the route is declared', async () => {
    const app = Fastify()
    await app.register(bearerAuth, { verifier: fakeVerifier() })
    expect(() =>
      app.get('/bad', { config: { bearerAuth: { requiredScopes: ['two words'] } } }, async () => 'x'),
    ).toThrow(/bearerAuth of route GET \/bad: every scope must be a non-empty RFC 6749 scope-token/)
    await app.close()
  })
})
