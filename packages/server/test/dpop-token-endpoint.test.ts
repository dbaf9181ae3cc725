/**
 * DPoP at the token endpoint (RFC 9449 §5, §6, §8): a request with a valid proof gets a token
 * bound to the proof's key, every bad proof is refused with 400 invalid_dpop_proof, a proof is
 * accepted once, and server nonces follow §8.
 */
import { request as httpRequest } from 'node:http'
import { exportJWK } from 'jose'
import { describe, expect, it } from 'vitest'
import { hmacProof, jwtClaims, proof, proofKey, unsignedProof } from './dpop-proofs.js'
import { type Answer, basic, expectOAuthError, postForm, startServer } from './test-server.js'

const SECRET = 'svc-secret'
const CLIENT = { client_id: 'svc', client_secret: SECRET, scope: 'read' }
const GRANT = { grant_type: 'client_credentials' }
const OPAQUE_API = 'https://opaque.example.com/'

function fakeClock() {
  const clock = { ms: 1_800_000_000_000, now: () => clock.ms, sec: () => Math.floor(clock.ms / 1000) }
  return clock
}

/** A token request with `client_secret_basic`, and the given DPoP header(s). */
function tokenRequest(
  tokenEndpoint: string,
  dpop: string | undefined,
  body: Record<string, string> = GRANT,
  clientId = 'svc',
): Promise<Answer> {
  return postForm(tokenEndpoint, body, { ...basic(clientId, SECRET), ...(dpop ? { dpop } : {}) })
}

async function introspect(url: string, token: string): Promise<Record<string, unknown>> {
  const answer = await postForm(`${url}/introspect`, { token }, basic('svc', SECRET))
  expect(answer.status).toBe(200)
  return answer.json
}

async function setUp(config: Record<string, unknown> = {}, clients: object[] = [CLIENT]) {
  const clock = fakeClock()
  const { server, url } = await startServer({ clients: clients as never, now: clock.now, ...config })
  const key = await proofKey()
  const tokenEndpoint = `${url}/token`
  return { server, url, clock, key, tokenEndpoint }
}

function expectInvalidProof(answer: Answer, description?: string | RegExp): Answer {
  expectOAuthError(answer, 400, 'invalid_dpop_proof')
  if (description !== undefined) expect(answer.json.error_description).toMatch(description)
  return answer
}

describe('a token request with a DPoP proof', () => {
  it('gets a JWT bound to the key (cnf.jkt) with token_type DPoP, and introspection says so', async () => {
    const { url, clock, key, tokenEndpoint } = await setUp()
    const answer = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }),
    )
    expect(answer.status).toBe(200)
    expect(answer.json.token_type).toBe('DPoP')
    expect(answer.headers.get('cache-control')).toBe('no-store')
    expect(jwtClaims(answer.json.access_token).cnf).toEqual({ jkt: key.jkt })
    const info = await introspect(url, answer.json.access_token)
    expect(info).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt } })
  })

  it('gets an opaque token whose binding the server remembers', async () => {
    const { url, clock, key, tokenEndpoint } = await setUp({
      resources: [{ resource: OPAQUE_API, tokenFormat: 'opaque' }],
    })
    const answer = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }),
      {
        ...GRANT,
        resource: OPAQUE_API,
      },
    )
    expect(answer.status).toBe(200)
    expect(answer.json.token_type).toBe('DPoP')
    expect(answer.json.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/)
    const info = await introspect(url, answer.json.access_token)
    expect(info).toMatchObject({ active: true, token_type: 'DPoP', cnf: { jkt: key.jkt }, aud: OPAQUE_API })
  })

  it('without a proof gets a Bearer token without cnf', async () => {
    const { url, tokenEndpoint } = await setUp()
    const answer = await tokenRequest(tokenEndpoint, undefined)
    expect(answer.status).toBe(200)
    expect(answer.json.token_type).toBe('Bearer')
    expect(jwtClaims(answer.json.access_token).cnf).toBeUndefined()
    const info = await introspect(url, answer.json.access_token)
    expect(info.token_type).toBe('Bearer')
    expect(info.cnf).toBeUndefined()
  })

  it('binds tokens to keys of other kinds: ES384, EdDSA, PS256, RS256', async () => {
    const { clock, tokenEndpoint } = await setUp()
    for (const alg of ['ES384', 'EdDSA', 'PS256', 'RS256']) {
      const key = await proofKey(alg)
      const answer = await tokenRequest(
        tokenEndpoint,
        await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }),
      )
      expect(answer.status, alg).toBe(200)
      expect(jwtClaims(answer.json.access_token).cnf).toEqual({ jkt: key.jkt })
    }
  })
})

describe('a bad DPoP proof at the token endpoint', () => {
  it('is refused for a wrong typ', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const bad = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), typ: 'JWT' })
    expectInvalidProof(await tokenRequest(tokenEndpoint, bad), /typ/)
  })

  it('is refused under alg none', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    expectInvalidProof(
      await tokenRequest(tokenEndpoint, unsignedProof(key, tokenEndpoint, clock.sec())),
      /algorithm/,
    )
  })

  it('is refused under HS256', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    expectInvalidProof(
      await tokenRequest(tokenEndpoint, await hmacProof(key, tokenEndpoint, clock.sec())),
      /algorithm/,
    )
  })

  it('is refused under an algorithm the server does not accept', async () => {
    const { clock, tokenEndpoint } = await setUp({ dpop: { algorithms: ['ES256'] } })
    const rsa = await proofKey('RS256')
    expectInvalidProof(
      await tokenRequest(tokenEndpoint, await proof(rsa, { htu: tokenEndpoint, iatSec: clock.sec() })),
      /algorithm/,
    )
  })

  it('is refused when its jwk holds the private key', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const privateJwk = await exportJWK(key.privateKey)
    expect(privateJwk.d).toBeDefined()
    const bad = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), header: { jwk: privateJwk } })
    const answer = expectInvalidProof(await tokenRequest(tokenEndpoint, bad), /private key/)
    expect(answer.text).not.toContain(privateJwk.d)
  })

  it('is refused when another key signed it', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const other = await proofKey()
    const bad = await proof(other, { htu: tokenEndpoint, iatSec: clock.sec(), header: { jwk: key.jwk } })
    expectInvalidProof(await tokenRequest(tokenEndpoint, bad), /signature/)
  })

  it('is refused for a method other than POST', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const bad = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), htm: 'GET' })
    expectInvalidProof(await tokenRequest(tokenEndpoint, bad), /htm/)
  })

  it('is refused for another URL, and compared without query and fragment, normalised', async () => {
    const { url, clock, key, tokenEndpoint } = await setUp()
    const other = await proof(key, { htu: `${url}/introspect`, iatSec: clock.sec() })
    expectInvalidProof(await tokenRequest(tokenEndpoint, other), /htu/)
    const otherOrigin = await proof(key, {
      htu: tokenEndpoint.replace('127.0.0.1', 'localhost'),
      iatSec: clock.sec(),
    })
    expectInvalidProof(await tokenRequest(tokenEndpoint, otherOrigin), /htu/)
    const withQuery = await proof(key, { htu: `${tokenEndpoint}?x=1#frag`, iatSec: clock.sec() })
    expect((await tokenRequest(tokenEndpoint, withQuery)).status).toBe(200)
    const { port } = new URL(url)
    const upperCased = await proof(key, { htu: `HTTP://127.0.0.1:${port}/%74oken`, iatSec: clock.sec() })
    expect((await tokenRequest(tokenEndpoint, upperCased)).status).toBe(200)
  })

  it('is refused when iat is older or newer than the window (60 s by default)', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const tooOld = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() - 61 })
    expectInvalidProof(await tokenRequest(tokenEndpoint, tooOld), /too old/)
    const tooNew = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() + 61 })
    expectInvalidProof(await tokenRequest(tokenEndpoint, tooNew), /future/)
    for (const iatSec of [clock.sec() - 60, clock.sec() + 60]) {
      expect(
        (await tokenRequest(tokenEndpoint, await proof(key, { htu: tokenEndpoint, iatSec }))).status,
      ).toBe(200)
    }
  })

  it('follows a configured iatWindowSec', async () => {
    const { clock, key, tokenEndpoint } = await setUp({ dpop: { iatWindowSec: 5 } })
    const old = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() - 6 })
    expectInvalidProof(await tokenRequest(tokenEndpoint, old), /too old/)
    const recent = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() - 5 })
    expect((await tokenRequest(tokenEndpoint, recent)).status).toBe(200)
  })

  it('is refused without jti, htm, htu or iat', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    for (const claim of ['jti', 'htm', 'htu', 'iat']) {
      const bad = await proof(key, {
        htu: tokenEndpoint,
        iatSec: clock.sec(),
        claims: { [claim]: undefined },
      })
      expectInvalidProof(await tokenRequest(tokenEndpoint, bad), new RegExp(claim))
    }
  })

  it('is refused when replayed (same jti), until and after the window, but a new jti passes', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const once = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), jti: 'the-one-jti' })
    expect((await tokenRequest(tokenEndpoint, once)).status).toBe(200)
    expectInvalidProof(await tokenRequest(tokenEndpoint, once), /already used/)
    // Another proof with the same jti from the same key is the same proof as far as replay goes.
    const sameJti = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() + 1, jti: 'the-one-jti' })
    expectInvalidProof(await tokenRequest(tokenEndpoint, sameJti), /already used/)
    clock.ms += 30_000
    expectInvalidProof(await tokenRequest(tokenEndpoint, once), /already used/)
    clock.ms += 31_000
    // Once the jti is forgotten the proof is too old anyway.
    expectInvalidProof(await tokenRequest(tokenEndpoint, once), /too old/)
    const fresh = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() })
    expect((await tokenRequest(tokenEndpoint, fresh)).status).toBe(200)
  })

  it('is not spent by a request that failed client authentication', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const good = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() })
    const wrongSecret = await postForm(tokenEndpoint, GRANT, { ...basic('svc', 'wrong'), dpop: good })
    expectOAuthError(wrongSecret, 401, 'invalid_client')
    expect((await tokenRequest(tokenEndpoint, good)).status).toBe(200)
  })

  it('is refused when the request holds two DPoP headers (two lines, or joined with a comma)', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const first = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() })
    const second = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() })
    const twoLines = await rawPost(tokenEndpoint, { ...basic('svc', SECRET), dpop: [first, second] })
    expect(twoLines.status).toBe(400)
    expect(JSON.parse(twoLines.body)).toMatchObject({ error: 'invalid_dpop_proof' })
    expect(JSON.parse(twoLines.body).error_description).toMatch(/more than one DPoP header/)
    expectInvalidProof(await tokenRequest(tokenEndpoint, `${first}, ${second}`), /more than one DPoP header/)
    // Neither was spent.
    expect((await tokenRequest(tokenEndpoint, first)).status).toBe(200)
  })

  it('is refused when a web Request given to handle() holds two DPoP headers', async () => {
    const { server, clock, key, tokenEndpoint } = await setUp()
    const headers = new Headers({
      ...basic('svc', SECRET),
      'content-type': 'application/x-www-form-urlencoded',
    })
    headers.append('dpop', await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }))
    headers.append('dpop', await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }))
    const response = await server.handle(
      new Request(tokenEndpoint, { method: 'POST', headers, body: 'grant_type=client_credentials' }),
    )
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({
      error: 'invalid_dpop_proof',
      error_description: expect.stringContaining('more than one DPoP header'),
    })
  })

  it('never quotes the proof in the answer', async () => {
    const { clock, key, tokenEndpoint } = await setUp()
    const bad = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() - 3600 })
    const answer = expectInvalidProof(await tokenRequest(tokenEndpoint, bad))
    for (const part of bad.split('.')) expect(answer.text).not.toContain(part)
  })
})

describe('clients that must use DPoP', () => {
  it('dpop_bound_access_tokens: a request without a proof is refused with invalid_dpop_proof (RFC 9449 §5.2)', async () => {
    const bound = { client_id: 'bound', client_secret: SECRET, dpop_bound_access_tokens: true }
    const { clock, key, tokenEndpoint } = await setUp({}, [CLIENT, bound])
    expectInvalidProof(await tokenRequest(tokenEndpoint, undefined, GRANT, 'bound'), /must send a DPoP proof/)
    const answer = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }),
      GRANT,
      'bound',
    )
    expect(answer.status).toBe(200)
    expect(answer.json.token_type).toBe('DPoP')
    // Other clients are not concerned.
    expect((await tokenRequest(tokenEndpoint, undefined)).json.token_type).toBe('Bearer')
  })

  it('a client registered at run time with dpop_bound_access_tokens', async () => {
    const { server, tokenEndpoint } = await setUp()
    server.registerClient({ client_id: 'later', client_secret: SECRET, dpop_bound_access_tokens: true })
    expectInvalidProof(await tokenRequest(tokenEndpoint, undefined, GRANT, 'later'))
    expect(server.getClient('later')?.dpop_bound_access_tokens).toBe(true)
    expect(() =>
      server.registerClient({
        client_id: 'odd',
        client_secret: SECRET,
        dpop_bound_access_tokens: 'yes' as never,
      }),
    ).toThrow('dpop_bound_access_tokens must be a boolean')
  })

  it("dpop: 'required': every request needs a proof", async () => {
    const { clock, key, tokenEndpoint } = await setUp({ dpop: 'required' })
    expectInvalidProof(await tokenRequest(tokenEndpoint, undefined), /requires a DPoP proof/)
    const answer = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }),
    )
    expect(answer.json.token_type).toBe('DPoP')
  })
})

describe("dpop: 'disabled'", () => {
  it('does not read the DPoP header, issues Bearer tokens and does not advertise DPoP', async () => {
    const { server, clock, key, tokenEndpoint } = await setUp({ dpop: { mode: 'disabled' } })
    const good = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() })
    const answer = await tokenRequest(tokenEndpoint, good)
    expect(answer.json.token_type).toBe('Bearer')
    expect(jwtClaims(answer.json.access_token).cnf).toBeUndefined()
    expect((await tokenRequest(tokenEndpoint, 'not a proof')).json.token_type).toBe('Bearer')
    expect(server.metadata.dpop_signing_alg_values_supported).toBeUndefined()
  })

  it('refuses clients that must use DPoP', async () => {
    const bound = { client_id: 'bound', client_secret: SECRET, dpop_bound_access_tokens: true }
    await expect(startServer({ clients: [CLIENT, bound], dpop: 'disabled' })).rejects.toThrow(
      'clients[1].dpop_bound_access_tokens needs DPoP',
    )
    const { server } = await startServer({ clients: [CLIENT], dpop: 'disabled' })
    expect(() => server.registerClient(bound)).toThrow('dpop_bound_access_tokens needs DPoP')
  })
})

describe('the metadata document', () => {
  it('advertises dpop_signing_alg_values_supported: every asymmetric algorithm by default, or those configured', async () => {
    const { url } = await setUp()
    const metadata = (await fetch(`${url}/.well-known/oauth-authorization-server`).then((r) =>
      r.json(),
    )) as Record<string, unknown>
    expect(metadata.dpop_signing_alg_values_supported).toEqual([
      'ES256',
      'ES384',
      'ES512',
      'EdDSA',
      'Ed25519',
      'PS256',
      'PS384',
      'PS512',
      'RS256',
      'RS384',
      'RS512',
    ])
    const configured = await setUp({ dpop: { algorithms: ['ES256', 'EdDSA'] } })
    expect(configured.server.metadata.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA'])
  })
})

describe('server nonces (RFC 9449 §8)', () => {
  const NONCE_SECRET = 'a-nonce-secret-of-at-least-32-bytes-0123456789'

  it('asks for a nonce with 400 use_dpop_nonce and DPoP-Nonce, accepts it, and hands the current one out', async () => {
    const { clock, key, tokenEndpoint } = await setUp({ dpop: { nonce: true } })
    const first = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }),
    )
    expectOAuthError(first, 400, 'use_dpop_nonce')
    const nonce = first.headers.get('dpop-nonce')
    expect(nonce).toMatch(/^[\x21\x23-\x5b\x5d-\x7e]+$/)
    const second = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), nonce: nonce! }),
    )
    expect(second.status).toBe(200)
    expect(second.json.token_type).toBe('DPoP')
    expect(second.headers.get('dpop-nonce')).toBe(nonce)
    const wrong = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), nonce: 'made-up' }),
    )
    expectOAuthError(wrong, 400, 'use_dpop_nonce')
    expect(wrong.headers.get('dpop-nonce')).toBe(nonce)
  })

  it('rotates: a nonce is accepted in its window and the next, then refused with a new one', async () => {
    const { clock, key, tokenEndpoint } = await setUp({ dpop: { nonce: { windowSec: 10 } } })
    // At the start of a window, so that the arithmetic below is exact.
    clock.ms = Math.ceil(clock.ms / 10_000) * 10_000
    const nonce = (
      await tokenRequest(tokenEndpoint, await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }))
    ).headers.get('dpop-nonce')!
    clock.ms += 19_000
    const stillGood = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), nonce }),
    )
    expect(stillGood.status).toBe(200)
    expect(stillGood.headers.get('dpop-nonce')).not.toBe(nonce)
    clock.ms += 1000
    const stale = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), nonce }),
    )
    expectOAuthError(stale, 400, 'use_dpop_nonce')
    expect(stale.headers.get('dpop-nonce')).not.toBe(nonce)
  })

  it('two servers with one secret accept each other’s nonces, without sharing anything else', async () => {
    const a = await setUp({ dpop: { nonce: { secret: NONCE_SECRET } } })
    const b = await startServer({
      clients: [CLIENT],
      now: a.clock.now,
      dpop: { nonce: { secret: NONCE_SECRET } },
    })
    const nonce = (
      await tokenRequest(a.tokenEndpoint, await proof(a.key, { htu: a.tokenEndpoint, iatSec: a.clock.sec() }))
    ).headers.get('dpop-nonce')!
    const bEndpoint = `${b.url}/token`
    const answer = await tokenRequest(
      bEndpoint,
      await proof(a.key, { htu: bEndpoint, iatSec: a.clock.sec(), nonce }),
    )
    expect(answer.status).toBe(200)
    const c = await startServer({ clients: [CLIENT], now: a.clock.now, dpop: { nonce: true } })
    const cEndpoint = `${c.url}/token`
    expectOAuthError(
      await tokenRequest(cEndpoint, await proof(a.key, { htu: cEndpoint, iatSec: a.clock.sec(), nonce })),
      400,
      'use_dpop_nonce',
    )
  })

  it('a proof refused for its nonce is not spent', async () => {
    const { clock, key, tokenEndpoint } = await setUp({ dpop: { nonce: true } })
    const noNonce = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), jti: 'kept' })
    const nonce = (await tokenRequest(tokenEndpoint, noNonce)).headers.get('dpop-nonce')!
    const withNonce = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec(), jti: 'kept', nonce })
    expect((await tokenRequest(tokenEndpoint, withNonce)).status).toBe(200)
  })
})

describe('a full DPoP replay store', () => {
  it('answers 503 with Retry-After rather than forget a used proof', async () => {
    const { MemoryServerStore } = await import('@oauth-m2m/server')
    const clock = fakeClock()
    const { url } = await startServer({
      clients: [CLIENT],
      now: clock.now,
      store: new MemoryServerStore({ maxDpopJtis: 1, now: clock.now }),
    })
    const tokenEndpoint = `${url}/token`
    const key = await proofKey()
    const first = await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() })
    expect((await tokenRequest(tokenEndpoint, first)).status).toBe(200)
    const full = await tokenRequest(
      tokenEndpoint,
      await proof(key, { htu: tokenEndpoint, iatSec: clock.sec() }),
    )
    expectOAuthError(full, 503, 'temporarily_unavailable')
    expect(full.headers.get('retry-after')).toBe('61')
    expectInvalidProof(await tokenRequest(tokenEndpoint, first), /already used/)
  })
})

describe('configured endpoints', () => {
  it('the proof names the configured token endpoint URL, not one under the issuer', async () => {
    const clock = fakeClock()
    const tokenUrl = 'https://login.example.test/tenant/oauth2/token'
    const { server } = await startServer({
      issuer: 'https://login.example.test/tenant',
      clients: [CLIENT],
      now: clock.now,
      endpoints: { token: tokenUrl },
    })
    const key = await proofKey()
    const send = async (htu: string) =>
      server.handle(
        new Request(tokenUrl, {
          method: 'POST',
          headers: {
            ...basic('svc', SECRET),
            'content-type': 'application/x-www-form-urlencoded',
            dpop: await proof(key, { htu, iatSec: clock.sec() }),
          },
          body: 'grant_type=client_credentials',
        }),
      )
    const wrong = await send('https://login.example.test/tenant/token')
    expect(wrong.status).toBe(400)
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_dpop_proof')
    const right = await send(tokenUrl)
    expect(right.status).toBe(200)
    expect(((await right.json()) as { token_type: string }).token_type).toBe('DPoP')
  })
})

/** A POST over node:http, which sends a header given as an array as several header lines. */
function rawPost(
  url: string,
  headers: Record<string, string | string[]>,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      },
    )
    req.on('error', reject)
    req.end('grant_type=client_credentials')
  })
}
