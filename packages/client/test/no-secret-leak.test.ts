/**
 * Secrets, client assertions and access tokens must never show up in an error (message,
 * `String(err)`, `JSON.stringify(err)`, its inspected form with the whole cause chain) nor in any
 * diagnostics payload. Every failure path is driven here while every channel is watched.
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { inspect } from 'node:util'
import {
  type ClientAuthStrategy,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  HttpError,
  OAuthResponseError,
  privateKeyJwt,
} from '@oauth-m2m/core'
import { formUrlEncode, REDACTED } from '@oauth-m2m/core/internal'
import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { generateKeyPair } from 'jose'
import { delay, HttpResponse, http } from 'msw'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { CLIENT_CHANNELS, createTokenClient } from '../src/index.js'
import { TOKEN_ENDPOINT } from './msw-token-server.js'

// Characters that form-urlencoding and percent-encoding change, so that an echo of an encoded
// form is not caught by the raw value alone.
const SECRET = 'Sup3r S3cret+Value/9f8e&7d=x'
const API = 'https://api.example.test'
const leaks: string[] = [
  SECRET,
  formUrlEncode(SECRET),
  encodeURIComponent(SECRET),
  Buffer.from(`leak-check:${formUrlEncode(SECRET)}`).toString('base64'),
]
const payloads: unknown[] = []
const listeners = Object.values(CLIENT_CHANNELS).map((name) => {
  const fn = (message: unknown) => payloads.push(message)
  return { name, fn }
})

beforeAll(() => {
  for (const { name, fn } of listeners) diagnostics_channel.subscribe(name, fn)
})
afterAll(() => {
  for (const { name, fn } of listeners) diagnostics_channel.unsubscribe(name, fn)
})

type Behaviour =
  | 'ok'
  | 'invalid_client'
  | 'html'
  | 'truncated'
  | 'bad_type'
  | 'bad_expiry'
  | 'reset'
  | 'slow'
  | '429'
  | 'echo'
  | 'echo_200'
  | 'echo_content_type'

let tokenCounter = 0
function freshToken(): string {
  const token = `leak-check-token-${++tokenCounter}-${'x'.repeat(12)}`
  leaks.push(token)
  return token
}

/**
 * Everything the request carried as a credential, in the forms a server might echo: the raw
 * request body (form-urlencoded secret and assertion), the Basic credential, the assertion and
 * the segments of it that are its own (payload with the jti, signature).
 */
function echoOf(
  raw: string,
  form: URLSearchParams,
  authorization: string | null,
  dpop: string | null,
): string {
  const assertion = form.get('client_assertion') ?? ''
  const [, proofClaims = '', proofSignature = ''] = (dpop ?? '').split('.')
  if (dpop) leaks.push(dpop, proofClaims, proofSignature)
  const [, payload = '', signature = ''] = assertion.split('.')
  if (payload) leaks.push(payload)
  if (signature) leaks.push(signature)
  if (authorization) leaks.push(authorization.slice('Basic '.length))
  const secret = form.get('client_secret') ?? ''
  return `wrong secret ${secret} in ${raw} with ${authorization ?? ''}; signature ${signature}, claims ${payload}, assertion ${assertion}; proof ${dpop ?? ''}, its claims ${proofClaims}, its signature ${proofSignature}`
}

/** The token endpoint and a resource that refuses every token; `tokenType` is what the endpoint issues. */
function dispatcherFor(behaviour: Behaviour, tokenType: 'Bearer' | 'DPoP' = 'Bearer') {
  return createMswDispatcher([
    http.post(TOKEN_ENDPOINT, async ({ request }) => {
      const raw = await request.text()
      const form = new URLSearchParams(raw)
      const assertion = form.get('client_assertion')
      if (assertion) leaks.push(assertion)
      const token = freshToken()
      const echo = () => echoOf(raw, form, request.headers.get('authorization'), request.headers.get('dpop'))
      switch (behaviour) {
        case 'ok':
          return HttpResponse.json({ access_token: token, token_type: tokenType, expires_in: 3600 })
        case 'invalid_client':
          return HttpResponse.json({ error: 'invalid_client' }, { status: 401 })
        case 'html':
          return new HttpResponse(`<html>${token}</html>`, { headers: { 'content-type': 'text/html' } })
        case 'truncated':
          return new HttpResponse(`{"access_token":"${token}","tok`, {
            headers: { 'content-type': 'application/json' },
          })
        case 'bad_type':
          return HttpResponse.json({ access_token: token, token_type: 'mac', expires_in: 60 })
        case 'bad_expiry':
          return HttpResponse.json({ access_token: token, token_type: tokenType, expires_in: -1 })
        case 'reset':
          return HttpResponse.error()
        case 'slow':
          await delay('infinite')
          return HttpResponse.json({})
        case '429':
          return HttpResponse.json(
            { error: 'slow_down' },
            { status: 429, headers: { 'retry-after': '3600' } },
          )
        case 'echo':
          return HttpResponse.json(
            {
              error: `invalid_client ${echo()}`,
              error_description: echo(),
              error_uri: `https://as.example.test/errors?${raw}&why=${encodeURIComponent(echo())}`,
            },
            { status: 401 },
          )
        case 'echo_200':
          return HttpResponse.json({ error: 'invalid_request', error_description: echo() })
        case 'echo_content_type':
          return new HttpResponse('nope', {
            status: 400,
            headers: { 'content-type': `text/plain; echo="${echo().replace(/["\\]/g, '')}"` },
          })
      }
    }),
    http.get(`${API}/*`, ({ request }) => {
      const proof = request.headers.get('dpop')
      if (proof) leaks.push(proof, proof.split('.')[2]!)
      return new HttpResponse(null, {
        status: 401,
        headers: { 'www-authenticate': `${tokenType} error="invalid_token"` },
      })
    }),
  ])
}

const { privateKey } = await generateKeyPair('ES256')

const strategies: [string, () => ClientAuthStrategy][] = [
  ['private_key_jwt', () => privateKeyJwt(privateKey, { kid: 'k1' })],
  ['client_secret_basic', () => clientSecretBasic(SECRET)],
  ['client_secret_post', () => clientSecretPost(SECRET)],
  ['client_secret_jwt', () => clientSecretJwt(SECRET)],
  ['client_secret_basic via a function', () => clientSecretBasic(() => SECRET)],
]

const behaviours: Behaviour[] = [
  'invalid_client',
  'html',
  'truncated',
  'bad_type',
  'bad_expiry',
  'reset',
  'slow',
  '429',
  'echo',
  'echo_200',
  'echo_content_type',
]

function renderings(value: unknown): string[] {
  const out = [inspect(value, { depth: 8, showHidden: false }), JSON.stringify(value) ?? '']
  if (value instanceof Error) {
    out.push(value.message, String(value))
    let cause: unknown = value.cause
    while (cause !== undefined && cause !== null) {
      out.push(String(cause), JSON.stringify(cause) ?? '')
      cause = (cause as { cause?: unknown }).cause
    }
  }
  return out
}

function expectNoLeak(value: unknown): void {
  for (const text of renderings(value)) {
    for (const secret of leaks) {
      if (text.includes(secret)) throw new Error(`leaked ${secret.slice(0, 12)}… in ${text.slice(0, 200)}`)
    }
  }
}

describe('no secret, assertion or token in errors or diagnostics', () => {
  const errors: unknown[] = []

  it.each(strategies)('holds for every failure with %s', async (_, strategy) => {
    for (const behaviour of behaviours) {
      const client = createTokenClient({
        tokenEndpoint: TOKEN_ENDPOINT,
        clientId: 'leak-check',
        auth: strategy(),
        dispatcher: dispatcherFor(behaviour),
        resource: API,
        timeoutMs: 50,
        retry: { retries: 1, minDelayMs: 1, maxDelayMs: 2 },
      })
      for (const call of [() => client.getToken(), () => client.getToken(), () => client.fetch(`${API}/x`)]) {
        const error = await call().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(Error)
        errors.push(error)
      }
      await client.close()
    }
    // Successful paths publish too (fetch:end, cache:hit, refresh:scheduled).
    const ok = createTokenClient({
      tokenEndpoint: TOKEN_ENDPOINT,
      clientId: 'leak-check',
      auth: strategy(),
      dispatcher: dispatcherFor('ok'),
      resource: API,
    })
    await ok.getToken()
    await ok.getToken()
    const res = await ok.fetch(`${API}/x`)
    expect(res.status).toBe(401)
    await ok.close()
  })

  it('holds for every failure of a DPoP client, whose proofs are echoed too', async () => {
    for (const behaviour of [...behaviours, 'bearer_for_dpop' as const]) {
      const client = createTokenClient({
        tokenEndpoint: TOKEN_ENDPOINT,
        clientId: 'leak-check',
        auth: clientSecretBasic(SECRET),
        // A server that does not bind tokens answers the DPoP client with a Bearer one.
        dispatcher: behaviour === 'bearer_for_dpop' ? dispatcherFor('ok') : dispatcherFor(behaviour, 'DPoP'),
        resource: API,
        timeoutMs: 50,
        retry: { retries: 1, minDelayMs: 1, maxDelayMs: 2 },
        dpop: true,
      })
      for (const call of [() => client.getToken(), () => client.getToken(), () => client.fetch(`${API}/x`)]) {
        const error = await call().catch((e: unknown) => e)
        expect(error).toBeInstanceOf(Error)
        errors.push(error)
      }
      await client.close()
    }
    const ok = createTokenClient({
      tokenEndpoint: TOKEN_ENDPOINT,
      clientId: 'leak-check',
      auth: clientSecretBasic(SECRET),
      dispatcher: dispatcherFor('ok', 'DPoP'),
      resource: API,
      dpop: true,
    })
    expect((await ok.getToken()).tokenType).toBe('DPoP')
    expect((await ok.fetch(`${API}/x`)).status).toBe(401)
    await ok.close()
  })

  it('holds for a background refresh that fails and a store that fails', async () => {
    let clock = 1_000_000
    let calls = 0
    const dispatcher = createMswDispatcher([
      http.post(TOKEN_ENDPOINT, async ({ request }) => {
        const assertion = new URLSearchParams(await request.text()).get('client_assertion')
        if (assertion) leaks.push(assertion)
        if (++calls > 1) return HttpResponse.json({ error: 'invalid_client' }, { status: 401 })
        return HttpResponse.json({ access_token: freshToken(), token_type: 'Bearer', expires_in: 3600 })
      }),
    ])
    const storeDown = () => Promise.reject(new Error('store down'))
    const before = payloads.length
    const client = createTokenClient({
      tokenEndpoint: TOKEN_ENDPOINT,
      clientId: 'leak-check',
      auth: clientSecretJwt(SECRET),
      dispatcher,
      store: { get: storeDown, set: storeDown, delete: storeDown },
      retry: false,
      now: () => clock,
    })
    const first = await client.getToken()
    clock += 3_000_000 // stale: served while the refresh fails in the background
    expect(await client.getToken()).toBe(first)
    client.invalidate()
    const fired = () => new Set(payloads.slice(before).map((p) => Object.keys(p as object).join(',')))
    await vi.waitFor(() => {
      expect(fired()).toContain('key,error,retryAt') // refresh:failed
      expect(fired()).toContain('key,operation,error') // store:error
    })
    await client.close()
  })

  it('publishes plain data only: no live error (or any class instance) in any payload', () => {
    const isPlain = (value: unknown): boolean => {
      if (typeof value !== 'object' || value === null) return typeof value !== 'function'
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== Array.prototype) return false
      return Object.values(value).every(isPlain)
    }
    expect(payloads.length).toBeGreaterThan(0)
    for (const payload of payloads) expect(isPlain(payload), inspect(payload)).toBe(true)
    const described = payloads.flatMap((p) =>
      'error' in (p as object) ? [(p as { error: unknown }).error] : [],
    )
    expect(described.length).toBeGreaterThan(0)
    for (const error of described) {
      expect(Object.keys(error as object).sort()).toEqual(['code', 'message', 'name'])
    }
    expect(isPlain({ error: new Error('x') })).toBe(false)
  })

  it('has gathered errors and payloads from every channel that fired, with none leaking', () => {
    expect(errors.length).toBe((strategies.length + 1) * behaviours.length * 3 + 3)
    expect(leaks.length).toBeGreaterThan(20)
    const seen = new Set(payloads.map((p) => Object.keys(p as object).join(',')))
    expect(seen.size).toBeGreaterThan(5)
    for (const error of errors) expectNoLeak(error)
    for (const payload of payloads) expectNoLeak(payload)
  })

  it('still tells what the server said, with only the credentials taken out', () => {
    const echoed = errors.filter(
      (e) => e instanceof OAuthResponseError && e.errorDescription?.startsWith('wrong secret'),
    ) as OAuthResponseError[]
    expect(echoed.length).toBeGreaterThanOrEqual((strategies.length + 1) * 2)
    for (const error of echoed) {
      expect(error.errorDescription).toContain(REDACTED)
      expect(error.errorDescription).toMatch(/^wrong secret .* in .*grant_type=client_credentials/)
    }
    const typed = errors.filter((e) => e instanceof HttpError && /content type text\/plain/.test(e.message))
    expect(typed.length).toBeGreaterThanOrEqual(strategies.length)
  })

  it('detects a leak when there is one (the check itself can fail)', () => {
    expect(() => expectNoLeak(new Error(`oops ${SECRET}`))).toThrow(/leaked/)
    expect(() => expectNoLeak({ nested: { token: leaks.at(-1) } })).toThrow(/leaked/)
  })
})
