import { ConfigurationError } from '@oauth-m2m/core'
import { type BearerAuthOptions, bearerAuth } from '@oauth-m2m/verifier/node'
import { describe, expect, it } from 'vitest'
import { listenNode as listen, startNodeApp } from './apps.js'
import { bearerAuthConformance } from './conformance.js'
import { fakeVerifier } from './fake-verifier.js'
import { httpCall } from './http-call.js'

describe('node:http middleware', () => {
  bearerAuthConformance(startNodeApp)

  it('names two Authorization headers as several credentials (node keeps only the first)', async () => {
    const app = await startNodeApp({ verifier: fakeVerifier() })
    try {
      const answer = await httpCall(`${app.url}/things`, {
        headers: { authorization: ['Bearer good.token', 'Bearer good.token'] },
      })
      expect(answer.status).toBe(400)
      expect(JSON.parse(answer.body)).toEqual({
        error: 'invalid_request',
        error_description: 'the request carries more than one Authorization header',
      })
      expect(answer.headers['www-authenticate']).toBe(
        'Bearer error="invalid_request", error_description="the request carries more than one Authorization header"',
      )
    } finally {
      await app.close()
    }
  })

  it('sends an unexpected verifier failure to next(error) untouched', async () => {
    const auth = bearerAuth({ verifier: fakeVerifier() })
    let passed: unknown
    const app = await listen((req, res) => {
      void auth(req, res, (error) => {
        passed = error
        res.writeHead(599).end()
      })
    })
    try {
      const answer = await httpCall(`${app.url}/things`, {
        headers: { authorization: 'Bearer broken.token' },
      })
      expect(answer.status).toBe(599)
      expect(passed).toBeInstanceOf(Error)
      expect((passed as Error).message).toBe('internal detail that must not reach the caller')
    } finally {
      await app.close()
    }
  })

  it('answers an unexpected verifier failure with a bare 500 server_error when there is no next', async () => {
    const auth = bearerAuth({ verifier: fakeVerifier() })
    const app = await listen((req, res) => void auth(req, res))
    try {
      const answer = await httpCall(`${app.url}/things`, {
        headers: { authorization: 'Bearer broken.token' },
      })
      expect(answer.status).toBe(500)
      expect(answer.body).toBe('{"error":"server_error"}')
      expect(answer.headers['cache-control']).toBe('no-store')
    } finally {
      await app.close()
    }
  })

  it('rejects authenticate() on an unexpected failure and leaves the answer to the caller', async () => {
    const auth = bearerAuth({ verifier: fakeVerifier() })
    const outcomes: unknown[] = []
    const app = await listen((req, res) => {
      auth.authenticate(req, res).then(
        () => res.writeHead(200).end(),
        (error: unknown) => {
          outcomes.push(error)
          res.writeHead(502).end()
        },
      )
    })
    try {
      const answer = await httpCall(`${app.url}/x`, { headers: { authorization: 'Bearer broken.token' } })
      expect(answer.status).toBe(502)
      expect(outcomes).toHaveLength(1)
    } finally {
      await app.close()
    }
  })

  it('leaves Retry-After out of the 503 when retryAfterSec is 0', async () => {
    const app = await startNodeApp({ verifier: fakeVerifier(), retryAfterSec: 0 })
    try {
      const answer = await httpCall(`${app.url}/things`, {
        headers: { authorization: 'Bearer unavailable.token' },
      })
      expect(answer.status).toBe(503)
      expect(answer.headers['retry-after']).toBeUndefined()
    } finally {
      await app.close()
    }
  })

  it("authenticate(): per-call requiredScopes replace the middleware's; the former name scopes is refused", async () => {
    const verifier = fakeVerifier()
    const auth = bearerAuth({ verifier, requiredScopes: ['read'] })
    const outcomes: unknown[] = []
    const callOptions = [undefined, {}, { requiredScopes: ['admin'] }, { scopes: ['admin'] } as never]
    const app = await listen((req, res) => {
      const options = callOptions[Number(req.url?.slice(1))]
      auth.authenticate(req, res, options).then(
        (principal) => {
          outcomes.push(principal?.clientId)
          if (principal) res.writeHead(200).end()
        },
        (error: unknown) => {
          outcomes.push(error)
          res.writeHead(500).end()
        },
      )
    })
    try {
      const statuses = []
      for (const index of [0, 1, 2, 3]) {
        const answer = await httpCall(`${app.url}/${index}`, {
          headers: { authorization: 'Bearer good.token' },
        })
        statuses.push(answer.status)
      }
      expect(statuses).toEqual([200, 200, 403, 500])
      expect(verifier.calls.map((c) => c.requiredScopes)).toEqual([['read'], ['read'], ['admin']])
      expect(outcomes[3]).toBeInstanceOf(ConfigurationError)
      expect((outcomes[3] as Error).message).toBe('authenticate: "scopes" is now named "requiredScopes"')
    } finally {
      await app.close()
    }
  })

  it('authenticate() answers a request for the RFC 9728 document with it and resolves to undefined', async () => {
    const verifier = fakeVerifier()
    const auth = bearerAuth({
      verifier,
      resourceMetadata: {
        resource: 'http://127.0.0.1/api',
        authorizationServers: ['https://as.example.com'],
      },
    })
    const outcomes: unknown[] = []
    const app = await listen((req, res) => {
      void auth.authenticate(req, res).then((principal) => outcomes.push(principal))
    })
    try {
      const answer = await httpCall(`${app.url}/.well-known/oauth-protected-resource/api`)
      expect(answer.status).toBe(200)
      expect(JSON.parse(answer.body).resource).toBe('http://127.0.0.1/api')
      const refused = await httpCall(`${app.url}/api`)
      expect(refused.headers['www-authenticate']).toBe(
        'Bearer resource_metadata="http://127.0.0.1/.well-known/oauth-protected-resource/api"',
      )
      expect(outcomes).toEqual([undefined, undefined])
      expect(verifier.calls).toEqual([])
    } finally {
      await app.close()
    }
  })

  it('refuses invalid options when it is created, not on a request', () => {
    const verifier = fakeVerifier()
    expect(() => bearerAuth({} as BearerAuthOptions)).toThrow(/options.verifier must be a Verifier/)
    expect(() => bearerAuth({ verifier, requiredScopes: ['read write'] })).toThrow(/scope-token/)
    expect(() => bearerAuth({ verifier, requiredScopes: [''] })).toThrow(/scope-token/)
    expect(() => bearerAuth({ verifier, retryAfterSec: -1 })).toThrow(/retryAfterSec/)
    expect(() => bearerAuth({ verifier, retryAfterSec: 1.5 })).toThrow(/retryAfterSec/)
    expect(() =>
      bearerAuth({
        verifier,
        resourceMetadata: { resource: 'https://api.example', authorizationServers: [] },
      }),
    ).toThrow(ConfigurationError)
  })
})
