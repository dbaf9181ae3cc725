/**
 * DPoP through every middleware adapter over real HTTP (RFC 9449 §7): a real `createVerifier()`
 * with a static key set, tokens bound with `cnf.jkt` and proofs made by jose, sent as a client
 * would: `Authorization: DPoP <token>` and one `DPoP` header. The answers of §7.1: both
 * challenges when both schemes are accepted, `algs`, `invalid_dpop_proof`, `use_dpop_nonce` with
 * `DPoP-Nonce`, and the URL the proof must name (the request's own, or `publicBaseUrl`).
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createVerifier, DPOP_SIGNING_ALGS, type VerifierOptions } from '@oauth-m2m/verifier'
import { bearerAuth as expressBearerAuth } from '@oauth-m2m/verifier/express'
import type { BearerAuthOptions } from '@oauth-m2m/verifier/node'
import express from 'express'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { boundToken, type DpopKey, dpopKey, dpopProof } from '../support/dpop.js'
import { AUDIENCE, ISSUER, makeKey, mintToken, type TestKey } from '../support/keys.js'
import { APPS } from './apps.js'
import type { AppUnderTest, StartApp } from './conformance.js'
import { type HttpAnswer, httpCall } from './http-call.js'

const REALM = 'things-api'
const ALGS = DPOP_SIGNING_ALGS.join(' ')
const DPOP_CHALLENGE = `DPoP realm="${REALM}", algs="${ALGS}"`
const BEARER_CHALLENGE = `Bearer realm="${REALM}"`

let signer: TestKey
let client: DpopKey
let thief: DpopKey
beforeAll(async () => {
  signer = await makeKey('ES256', 'as-key')
  client = await dpopKey('ES256')
  thief = await dpopKey('EdDSA')
})

function verifierWith(dpop?: VerifierOptions['dpop']) {
  return createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwks: { keys: [signer.publicJwk] }, dpop })
}

function expectAnswer(answer: HttpAnswer, status: number, wwwAuthenticate: string, error?: string): void {
  expect(answer.status, answer.body).toBe(status)
  expect(answer.headers['www-authenticate']).toBe(wwwAuthenticate)
  expect(answer.headers['cache-control']).toBe('no-store')
  if (error !== undefined) expect(JSON.parse(answer.body).error).toBe(error)
}

function dpopConformance(startApp: StartApp): void {
  let app: AppUnderTest
  let things: string

  beforeAll(async () => {
    app = await startApp({ verifier: verifierWith(), realm: REALM, requiredScopes: ['read:things'] })
    things = `${app.url}/things`
  })
  afterAll(() => app.close())

  /** GET /things with `Authorization: DPoP <token>` and a proof (or the headers given). */
  async function send(token: string, proof?: string | string[], path = '/things', scheme = 'DPoP') {
    const headers: Record<string, string | string[]> = { authorization: `${scheme} ${token}` }
    if (proof !== undefined) headers.dpop = proof
    return httpCall(`${app.url}${path}`, { headers })
  }

  it('lets a DPoP-bound token through with a proof by its key for this request', async () => {
    const token = await boundToken(signer, client)
    const answer = await send(token, await dpopProof(client, { url: things, accessToken: token }))
    expect(answer.status, answer.body).toBe(200)
    expect(JSON.parse(answer.body)).toEqual({
      clientId: 'service-a',
      scopes: ['read:things', 'write:things'],
    })
  })

  it('compares htu without the query (RFC 9449 §4.3)', async () => {
    const token = await boundToken(signer, client)
    const proof = await dpopProof(client, { url: `${things}?page=1`, accessToken: token })
    expect((await send(token, proof, '/things?page=2')).status).toBe(200)
  })

  it('accepts a query WHATWG URLs leave { } | ^ raw in', async () => {
    const token = await boundToken(signer, client)
    for (const path of ['/things?filter={"a":1}', '/things?a=b|c^d']) {
      const proof = await dpopProof(client, { url: `${app.url}${path}`, accessToken: token })
      const answer = await send(token, proof, path)
      expect(answer.status, `${path}: ${answer.body}`).toBe(200)
    }
  })

  it('challenges with both schemes when a request has no credentials', async () => {
    const answer = await httpCall(things)
    expectAnswer(answer, 401, `${BEARER_CHALLENGE}, ${DPOP_CHALLENGE}`)
    expect(JSON.parse(answer.body)).toEqual({ error_description: 'an access token is required' })
  })

  it('refuses a DPoP-bound token sent with the Bearer scheme (downgrade, §7.2)', async () => {
    const token = await boundToken(signer, client)
    const answer = await send(
      token,
      await dpopProof(client, { url: things, accessToken: token }),
      '/things',
      'Bearer',
    )
    expectAnswer(
      answer,
      401,
      `Bearer realm="${REALM}", error="invalid_token", error_description="the token is DPoP-bound: send it with Authorization: DPoP and a DPoP proof", ${DPOP_CHALLENGE}`,
      'invalid_token',
    )
  })

  it('refuses an unbound token sent with the DPoP scheme, on the DPoP challenge', async () => {
    const token = await mintToken(signer)
    const answer = await send(token, await dpopProof(client, { url: things, accessToken: token }))
    expectAnswer(
      answer,
      401,
      `DPoP realm="${REALM}", error="invalid_token", error_description="the token is not DPoP-bound: send it with Authorization: Bearer", algs="${ALGS}", ${BEARER_CHALLENGE}`,
      'invalid_token',
    )
  })

  it('still lets a bearer token through with the Bearer scheme', async () => {
    const answer = await send(await mintToken(signer), undefined, '/things', 'Bearer')
    expect(answer.status).toBe(200)
  })

  it('answers invalid_dpop_proof for a missing proof, a stolen token with another key, a replay', async () => {
    const token = await boundToken(signer, client)
    const missing = await send(token)
    expectAnswer(
      missing,
      401,
      `DPoP realm="${REALM}", error="invalid_dpop_proof", error_description="the request carries no DPoP proof", algs="${ALGS}", ${BEARER_CHALLENGE}`,
      'invalid_dpop_proof',
    )
    const stolen = await send(token, await dpopProof(thief, { url: things, accessToken: token }))
    expect(stolen.status).toBe(401)
    expect(JSON.parse(stolen.body)).toEqual({
      error: 'invalid_dpop_proof',
      error_description: 'the DPoP proof is signed by another key than the one the token is bound to',
    })
    const proof = await dpopProof(client, { url: things, accessToken: token })
    expect((await send(token, proof)).status).toBe(200)
    const replay = await send(token, proof)
    expect(replay.status).toBe(401)
    expect(JSON.parse(replay.body).error_description).toMatch(/used before/)
  })

  it('refuses a proof for another method, URL or token', async () => {
    const token = await boundToken(signer, client)
    for (const p of [
      { url: things, accessToken: token, method: 'POST' },
      { url: `${app.url}/other`, accessToken: token },
      { url: things.replace('127.0.0.1', 'localhost'), accessToken: token },
      { url: things, accessToken: await boundToken(signer, client) },
    ]) {
      const answer = await send(token, await dpopProof(client, p))
      expect(answer.status, JSON.stringify(p)).toBe(401)
      expect(JSON.parse(answer.body).error).toBe('invalid_dpop_proof')
    }
  })

  it('answers 400 invalid_dpop_proof to two DPoP headers (§4.3 rule 1)', async () => {
    const token = await boundToken(signer, client)
    const proof = await dpopProof(client, { url: things, accessToken: token })
    const answer = await send(token, [proof, proof])
    expectAnswer(
      answer,
      400,
      `DPoP realm="${REALM}", error="invalid_dpop_proof", error_description="the request carries more than one DPoP header", algs="${ALGS}", ${BEARER_CHALLENGE}`,
      'invalid_dpop_proof',
    )
  })

  it('answers 400 to two DPoP proofs joined by a comma in one header line, as to two lines', async () => {
    const token = await boundToken(signer, client)
    const proof = await dpopProof(client, { url: things, accessToken: token })
    const answer = await send(token, `${proof}, ${proof}`)
    expectAnswer(
      answer,
      400,
      `DPoP realm="${REALM}", error="invalid_dpop_proof", error_description="the request carries more than one DPoP header", algs="${ALGS}", ${BEARER_CHALLENGE}`,
      'invalid_dpop_proof',
    )
  })

  it('does not trust X-Forwarded-Host or X-Forwarded-Proto for the URL', async () => {
    const token = await boundToken(signer, client)
    const proof = await dpopProof(client, { url: 'https://api.example.com/things', accessToken: token })
    const answer = await httpCall(things, {
      headers: {
        authorization: `DPoP ${token}`,
        dpop: proof,
        'x-forwarded-host': 'api.example.com',
        'x-forwarded-proto': 'https',
      },
    })
    expect(answer.status).toBe(401)
    expect(JSON.parse(answer.body).error_description).toMatch(/"htu"/)
  })

  it('answers 400 invalid_request when the Host header cannot be part of a URL', async () => {
    const token = await boundToken(signer, client)
    const proof = await dpopProof(client, { url: things, accessToken: token })
    const answer = await httpCall(things, {
      headers: { authorization: `DPoP ${token}`, dpop: proof, host: 'user@evil.example' },
    })
    expect(answer.status).toBe(400)
    // @hono/node-server (under the Hono and fetch apps) refuses such a Host itself, with no body.
    if (answer.body !== '') expect(JSON.parse(answer.body).error).toBe('invalid_request')
  })

  it('takes the URL from publicBaseUrl, with a path a proxy strips, when given', async () => {
    const behindProxy = await startApp({
      verifier: verifierWith(),
      realm: REALM,
      publicBaseUrl: 'https://api.example.com/v1/',
    })
    try {
      const token = await boundToken(signer, client)
      const call = async (url: string) =>
        httpCall(`${behindProxy.url}/things?x=1`, {
          headers: {
            authorization: `DPoP ${token}`,
            dpop: await dpopProof(client, { url, accessToken: token }),
          },
        })
      expect((await call('https://api.example.com/v1/things')).status).toBe(200)
      expect((await call(`${behindProxy.url}/things`)).status).toBe(401)
    } finally {
      await behindProxy.close()
    }
  })

  it('asks for a resource-server nonce with use_dpop_nonce and DPoP-Nonce, then accepts it (§9)', async () => {
    const withNonces = await startApp({ verifier: verifierWith({ nonce: true }), realm: REALM })
    try {
      const url = `${withNonces.url}/things`
      const token = await boundToken(signer, client)
      const call = async (nonce?: string) =>
        httpCall(url, {
          headers: {
            authorization: `DPoP ${token}`,
            dpop: await dpopProof(client, { url, accessToken: token, nonce }),
          },
        })
      const first = await call()
      expect(first.status).toBe(401)
      expect(first.headers['www-authenticate']).toMatch(/^DPoP realm="things-api", error="use_dpop_nonce", /)
      const nonce = first.headers['dpop-nonce']
      expect(nonce).toMatch(/^[A-Za-z0-9_-]{22}$/)
      expect((await call(String(nonce))).status).toBe(200)
    } finally {
      await withNonces.close()
    }
  })

  it('with dpop required, challenges only DPoP and refuses bearer tokens on it', async () => {
    const strict = await startApp({
      verifier: verifierWith('required'),
      realm: REALM,
    } satisfies BearerAuthOptions)
    try {
      expectAnswer(await httpCall(`${strict.url}/things`), 401, DPOP_CHALLENGE)
      const answer = await httpCall(`${strict.url}/things`, {
        headers: { authorization: `Bearer ${await mintToken(signer)}` },
      })
      expectAnswer(
        answer,
        401,
        `DPoP realm="${REALM}", error="invalid_token", error_description="this resource accepts only DPoP-bound tokens (Authorization: DPoP)", algs="${ALGS}"`,
        'invalid_token',
      )
    } finally {
      await strict.close()
    }
  })

  it('with dpop disabled, answers as before DPoP: a DPoP request has no credentials it takes', async () => {
    const legacy = await startApp({ verifier: verifierWith('disabled'), realm: REALM })
    try {
      const token = await boundToken(signer, client)
      const answer = await httpCall(`${legacy.url}/things`, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await dpopProof(client, { url: `${legacy.url}/things`, accessToken: token }),
        },
      })
      expectAnswer(answer, 401, BEARER_CHALLENGE)
      expect(JSON.parse(answer.body)).toEqual({ error_description: 'a bearer access token is required' })
    } finally {
      await legacy.close()
    }
  })
}

describe('Express mounted under a path', () => {
  it('has the proof name the whole path the client used (req.originalUrl)', async () => {
    const app = express()
    const router = express.Router()
    router.get('/things', expressBearerAuth({ verifier: verifierWith() }), (req, res) => {
      res.json({ jkt: req.auth?.confirmation?.jkt })
    })
    app.use('/api', router)
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s))
    })
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/things`
      const token = await boundToken(signer, client)
      const answer = await httpCall(url, {
        headers: {
          authorization: `DPoP ${token}`,
          dpop: await dpopProof(client, { url, accessToken: token }),
        },
      })
      expect(answer.status, answer.body).toBe(200)
      expect(JSON.parse(answer.body)).toEqual({ jkt: client.jkt })
    } finally {
      await new Promise((done) => server.close(done))
    }
  })
})

for (const [name, startApp] of Object.entries(APPS)) {
  describe(`${name} middleware with DPoP`, () => {
    dpopConformance(startApp)
  })
}
