/**
 * DPoP-bound tokens in `verify()` (RFC 9449 §6, §7): the binding (`cnf.jkt`) in JWTs and
 * introspection answers, the proof checked against the request and the token's key, the scheme
 * rules (§7.2), replay, resource-server nonces (§9) and the three modes.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import {
  createVerifier,
  type DpopReplayStore,
  InsufficientScopeError,
  InvalidDpopProofError,
  InvalidTokenError,
  MemoryDpopReplayStore,
  REJECTION_CHANNEL,
  type RejectionEvent,
  TemporarilyUnavailableError,
  UseDpopNonceError,
  type Verifier,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { exportJWK } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ath, boundToken, type DpopKey, dpopKey, dpopProof } from './support/dpop.js'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const URL_ = 'https://api.test.example/things'
let signer: TestKey
let client: DpopKey
let thief: DpopKey

beforeAll(async () => {
  signer = await makeKey('ES256', 'as-key')
  client = await dpopKey('ES256')
  thief = await dpopKey('ES256')
})

function verifierWith(options: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [signer.publicJwk] },
    ...options,
  })
}

/** `verify(token, { dpop })` with a fresh, honest proof by `key` for GET URL_. */
async function withProof(
  verifier: Verifier,
  token: string,
  key: DpopKey = client,
  extra: { nonce?: string } = {},
) {
  const proof = await dpopProof(key, { url: URL_, accessToken: token, ...extra })
  return verifier.verify(token, { dpop: { proof, method: 'GET', url: URL_ } })
}

describe('mode allowed (the default)', () => {
  it('accepts a DPoP-bound token with a valid proof by its key; the principal names the key', async () => {
    const verifier = verifierWith()
    const token = await boundToken(signer, client)
    const principal = await withProof(verifier, token)
    expect(principal.confirmation).toEqual({ jkt: client.jkt })
    expect(principal.clientId).toBe('service-a')
    expect(verifier.dpop).toEqual({
      mode: 'allowed',
      algorithms: expect.arrayContaining(['ES256', 'EdDSA', 'PS256']),
    })
  })

  it('accepts a bearer token without a proof, and its principal has no confirmation', async () => {
    const principal = await verifierWith().verify(await mintToken(signer))
    expect(principal).not.toHaveProperty('confirmation')
  })

  it('refuses a DPoP-bound token sent as a bearer token (downgrade, §7.2), also once cached', async () => {
    const verifier = verifierWith()
    const token = await boundToken(signer, client)
    await expect(verifier.verify(token)).rejects.toThrow(InvalidTokenError)
    await expect(verifier.verify(token)).rejects.toThrow(/DPoP-bound/)
    await withProof(verifier, token) // now in the verified-token cache
    await expect(verifier.verify(token)).rejects.toThrow(/send it with Authorization: DPoP/)
  })

  it('refuses an unbound token sent with the DPoP scheme', async () => {
    const verifier = verifierWith()
    const token = await mintToken(signer)
    await expect(withProof(verifier, token)).rejects.toThrow(InvalidTokenError)
    await expect(withProof(verifier, token)).rejects.toThrow(/not DPoP-bound/)
  })

  it('refuses a stolen token replayed with a proof by another key (cnf.jkt), cached or not', async () => {
    for (const tokenCache of [false, undefined] as const) {
      const verifier = verifierWith({ tokenCache })
      const token = await boundToken(signer, client)
      if (tokenCache === undefined) await withProof(verifier, token)
      const err = await withProof(verifier, token, thief).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(InvalidDpopProofError)
      expect((err as Error).message).toMatch(/another key/)
    }
  })

  it('refuses the DPoP scheme without a proof', async () => {
    const token = await boundToken(signer, client)
    const err = await verifierWith()
      .verify(token, { dpop: { proof: undefined, method: 'GET', url: URL_ } })
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidDpopProofError)
    expect((err as InvalidDpopProofError).status).toBe(401)
  })

  it('refuses a proof for another token (ath), method (htm) or URL (htu); accepts another query', async () => {
    const verifier = verifierWith()
    const token = await boundToken(signer, client)
    const other = await boundToken(signer, client)
    const check = async (p: Parameters<typeof dpopProof>[1], method = 'GET', url = URL_) =>
      verifier.verify(token, { dpop: { proof: await dpopProof(client, p), method, url } })
    await expect(check({ url: URL_, accessToken: other })).rejects.toThrow(/"ath"/)
    await expect(check({ url: URL_ })).rejects.toThrow(/no "ath"/)
    await expect(check({ url: URL_, accessToken: token, method: 'POST' })).rejects.toThrow(/"htm"/)
    await expect(check({ url: 'https://api.test.example/other', accessToken: token })).rejects.toThrow(
      /"htu"/,
    )
    await expect(
      check({ url: `${URL_}?page=1`, accessToken: token }, 'GET', `${URL_}?page=2`),
    ).resolves.toBeDefined()
  })

  it('accepts the URLs WHATWG builds: { } | ^ raw in the query, | ^ raw in the path', async () => {
    const verifier = verifierWith()
    const token = await boundToken(signer, client)
    for (const url of [`${URL_}?filter={"a":1}`, `${URL_}?a=b|c^d`, 'https://api.test.example/a|b^c']) {
      const proof = await dpopProof(client, { url, accessToken: token })
      await expect(
        verifier.verify(token, { dpop: { proof, method: 'GET', url } }),
        url,
      ).resolves.toBeDefined()
      const again = await dpopProof(client, { url, accessToken: token })
      await expect(
        verifier.verify(token, { dpop: { proof: again, method: 'GET', url: new URL(url) } }),
        url,
      ).resolves.toBeDefined()
    }
    const encoded = await dpopProof(client, { url: 'https://api.test.example/a%7Cb', accessToken: token })
    await expect(
      verifier.verify(token, {
        dpop: { proof: encoded, method: 'GET', url: 'https://api.test.example/a|b' },
      }),
    ).resolves.toBeDefined()
  })

  it('judges iat by the verifier clock, within iatWindowSec', async () => {
    let nowMs = Date.now() + 3_600_000
    const verifier = verifierWith({ now: () => nowMs, dpop: { iatWindowSec: 30 } })
    const token = await boundToken(signer, client, { exp: Math.floor(nowMs / 1000) + 600 })
    await expect(withProof(verifier, token)).rejects.toThrow(/too old/)
    nowMs = Date.now() + 25_000
    await expect(withProof(verifier, token)).resolves.toBeDefined()
    nowMs = Date.now() - 40_000
    await expect(withProof(verifier, token)).rejects.toThrow(/future/)
  })

  it('checks scopes after the binding', async () => {
    const verifier = verifierWith()
    const token = await boundToken(signer, client)
    const proof = await dpopProof(client, { url: URL_, accessToken: token })
    await expect(
      verifier.verify(token, { requiredScopes: ['admin'], dpop: { proof, method: 'GET', url: URL_ } }),
    ).rejects.toThrow(InsufficientScopeError)
    await expect(verifier.verify(token, { requiredScopes: ['admin'] })).rejects.toThrow(InvalidTokenError)
  })

  it('publishes DPoP refusals on the rejection channel, without the proof or token', async () => {
    const events: RejectionEvent[] = []
    const listener = (event: unknown) => events.push(event as RejectionEvent)
    subscribe(REJECTION_CHANNEL, listener)
    try {
      const token = await boundToken(signer, client)
      await withProof(verifierWith(), token, thief).catch(() => {})
    } finally {
      unsubscribe(REJECTION_CHANNEL, listener)
    }
    expect(events).toEqual([
      {
        code: 'ERR_INVALID_DPOP_PROOF',
        error: 'invalid_dpop_proof',
        message: expect.stringMatching(/another key/),
      },
    ])
  })

  it('refuses a malformed cnf rather than treating the token as unbound', async () => {
    const verifier = verifierWith()
    for (const cnf of ['jkt', { jkt: 7 }, { jkt: '' }, [client.jkt]]) {
      const token = await mintToken(signer, accessTokenClaims({ cnf }))
      await expect(verifier.verify(token), JSON.stringify(cnf)).rejects.toThrow(/"cnf/)
    }
    // A certificate binding alone (RFC 8705) is no DPoP binding: the token needs no proof, but its
    // certificate (certificate-binding.test.ts).
    const mtls = await mintToken(signer, accessTokenClaims({ cnf: { 'x5t#S256': 'abc' } }))
    await expect(verifier.verify(mtls)).rejects.toThrow(/bound to a client certificate/)
  })

  it('takes proofs of the allowed algorithms only', async () => {
    const verifier = verifierWith({ dpop: { algorithms: ['EdDSA'] } })
    const ed = await dpopKey('EdDSA')
    await expect(withProof(verifier, await boundToken(signer, ed), ed)).resolves.toBeDefined()
    await expect(withProof(verifier, await boundToken(signer, client))).rejects.toThrow(
      /algorithm that is not allowed/,
    )
    expect(verifier.dpop?.algorithms).toEqual(['EdDSA'])
  })
})

describe('bad kinds of proof (RFC 9449 §4.3 steps 4-7)', () => {
  const encode = (part: unknown) => Buffer.from(JSON.stringify(part)).toString('base64url')

  /** verify() with a proof for GET URL_ by `client` whose header is `header`, signed as `sign` says. */
  async function check(header: Record<string, unknown>, sign: (input: string) => Promise<string> | string) {
    const token = await boundToken(signer, client)
    const payload = {
      jti: crypto.randomUUID(),
      htm: 'GET',
      htu: URL_,
      iat: Math.floor(Date.now() / 1000),
      ath: await ath(token),
    }
    const input = `${encode(header)}.${encode(payload)}`
    const proof = `${input}.${await sign(input)}`
    return verifierWith()
      .verify(token, { dpop: { proof, method: 'GET', url: URL_ } })
      .catch((e: unknown) => e)
  }

  async function es256(input: string): Promise<string> {
    const signature = await crypto.subtle.sign(
      { name: 'ECDSA', hash: 'SHA-256' },
      client.privateKey,
      new TextEncoder().encode(input),
    )
    return Buffer.from(signature).toString('base64url')
  }

  const honest = () => ({ typ: 'dpop+jwt', alg: 'ES256', jwk: client.publicJwk })

  it('accepts the honest proof these cases start from', async () => {
    expect(await check(honest(), es256)).not.toBeInstanceOf(Error)
  })

  it('refuses a proof whose typ is not dpop+jwt', async () => {
    for (const typ of ['JWT', 'at+jwt', undefined]) {
      const err = await check({ ...honest(), typ }, es256)
      expect(err, String(typ)).toBeInstanceOf(InvalidDpopProofError)
      expect((err as Error).message).toMatch(/typ/)
    }
  })

  it('refuses alg none, with or without a signature', async () => {
    // Without a signature the proof is not even a well-formed JWS; with one, alg is refused.
    const unsigned = await check({ ...honest(), alg: 'none' }, () => '')
    expect(unsigned).toBeInstanceOf(InvalidDpopProofError)
    const signed = await check({ ...honest(), alg: 'none' }, () => 'AAAA')
    expect(signed).toBeInstanceOf(InvalidDpopProofError)
    expect((signed as Error).message).toMatch(/alg/)
  })

  it('refuses HS256 signed with the public key (algorithm confusion)', async () => {
    const secret = new TextEncoder().encode(JSON.stringify(client.publicJwk))
    const hmac = async (input: string) => {
      const key = await crypto.subtle.importKey('raw', secret, { name: 'HMAC', hash: 'SHA-256' }, false, [
        'sign',
      ])
      const mac = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(input))
      return Buffer.from(mac).toString('base64url')
    }
    const err = await check({ ...honest(), alg: 'HS256' }, hmac)
    expect(err).toBeInstanceOf(InvalidDpopProofError)
    expect((err as Error).message).toMatch(/alg/)
  })

  it('refuses a jwk holding private key members, and does not echo them', async () => {
    const privateJwk = await exportJWK(client.privateKey)
    expect(privateJwk.d).toBeTypeOf('string')
    const err = await check({ ...honest(), jwk: privateJwk }, es256)
    expect(err).toBeInstanceOf(InvalidDpopProofError)
    expect((err as Error).message).toMatch(/private/)
    expect(JSON.stringify(err)).not.toContain(privateJwk.d)
    expect((err as Error).message).not.toContain(privateJwk.d)
  })
})

describe('replay (§11.1)', () => {
  it('accepts a proof once; a replay is refused, also when the token is cached', async () => {
    const verifier = verifierWith()
    const token = await boundToken(signer, client)
    const proof = await dpopProof(client, { url: URL_, accessToken: token })
    const dpop = { proof, method: 'GET', url: URL_ }
    await expect(verifier.verify(token, { dpop })).resolves.toBeDefined()
    await expect(verifier.verify(token, { dpop })).rejects.toThrow(/used before/)
    await expect(withProof(verifier, token)).resolves.toBeDefined()
  })

  it('does not record a proof sent with a token that fails', async () => {
    const verifier = verifierWith()
    const token = await boundToken(signer, client)
    const expired = await boundToken(signer, client, { exp: Math.floor(Date.now() / 1000) - 60 })
    const proof = await dpopProof(client, { url: URL_, accessToken: token })
    await expect(verifier.verify(expired, { dpop: { proof, method: 'GET', url: URL_ } })).rejects.toThrow(
      /expired/,
    )
    await expect(verifier.verify(token, { dpop: { proof, method: 'GET', url: URL_ } })).resolves.toBeDefined()
  })

  it('remembers each proof for its window in a bounded cache (lru-cache)', async () => {
    let nowMs = Date.now()
    const store = new MemoryDpopReplayStore({ maxEntries: 2, now: () => nowMs })
    expect(store.recordIfNew('a', 1000)).toBe(true)
    expect(store.recordIfNew('a', 1000)).toBe(false)
    store.recordIfNew('b', 1000)
    store.recordIfNew('c', 1000)
    expect(store.size).toBe(2)
    nowMs += 1001
    expect(store.recordIfNew('c', 1000)).toBe(true)
  })

  it('uses a shared store through the interface, asynchronously; a failing store is a 503', async () => {
    const seen = new Set<string>()
    const keys: [string, number][] = []
    const shared: DpopReplayStore = {
      async recordIfNew(key, ttlMs) {
        keys.push([key, ttlMs])
        if (seen.has(key)) return false
        seen.add(key)
        return true
      },
    }
    const a = verifierWith({ dpop: { replayStore: shared } })
    const b = verifierWith({ dpop: { replayStore: shared } })
    const token = await boundToken(signer, client)
    const dpop = {
      proof: await dpopProof(client, { url: URL_, accessToken: token }),
      method: 'GET',
      url: URL_,
    }
    await expect(a.verify(token, { dpop })).resolves.toBeDefined()
    await expect(b.verify(token, { dpop })).rejects.toThrow(/used before/)
    expect(keys[0]![0]).toMatch(new RegExp(`^${client.jkt}\\.`))
    expect(keys[0]![1]).toBeGreaterThan(59_000)
    expect(keys[0]![1]).toBeLessThanOrEqual(62_000)

    const down = verifierWith({
      dpop: {
        replayStore: {
          recordIfNew: () => Promise.reject(new Error('ECONNREFUSED redis')),
        },
      },
    })
    await expect(withProof(down, token)).rejects.toThrow(TemporarilyUnavailableError)
    const throwing = verifierWith({
      dpop: {
        replayStore: {
          recordIfNew: () => {
            throw new Error('boom')
          },
        },
      },
    })
    await expect(withProof(throwing, token)).rejects.toThrow(TemporarilyUnavailableError)
  })
})

describe('resource-server nonces (§9)', () => {
  it('asks for a nonce with use_dpop_nonce and a fresh nonce, then accepts it until it ages out', async () => {
    let nowMs = Date.now()
    const verifier = verifierWith({ now: () => nowMs, dpop: { nonce: { windowSec: 60 } } })
    const token = await boundToken(signer, client)
    const err = (await withProof(verifier, token).catch((e: unknown) => e)) as UseDpopNonceError
    expect(err).toBeInstanceOf(UseDpopNonceError)
    expect(err.error).toBe('use_dpop_nonce')
    expect(err.status).toBe(401)
    expect(err.nonce).toMatch(/^[A-Za-z0-9_-]{22}$/)
    await expect(withProof(verifier, token, client, { nonce: err.nonce! })).resolves.toBeDefined()
    await expect(withProof(verifier, token, client, { nonce: 'made-up' })).rejects.toThrow(UseDpopNonceError)
    nowMs += 130_000
    const token2 = await boundToken(signer, client, { exp: Math.floor(nowMs / 1000) + 600 })
    const proof = await dpopProof(client, {
      url: URL_,
      accessToken: token2,
      nonce: err.nonce!,
      iat: Math.floor(nowMs / 1000),
    })
    const stale = await verifier
      .verify(token2, { dpop: { proof, method: 'GET', url: URL_ } })
      .catch((e: unknown) => e)
    expect(stale).toBeInstanceOf(UseDpopNonceError)
    expect((stale as UseDpopNonceError).nonce).not.toBe(err.nonce)
  })

  it('agrees across instances that share the secret', async () => {
    const nonce = { secret: 'one secret for the whole fleet, 32+ bytes' }
    const a = verifierWith({ dpop: { nonce } })
    const b = verifierWith({ dpop: { nonce } })
    const token = await boundToken(signer, client)
    const given = ((await withProof(a, token).catch((e: unknown) => e)) as UseDpopNonceError).nonce!
    await expect(withProof(b, token, client, { nonce: given })).resolves.toBeDefined()
  })

  it('does not ask for a nonce from bearer requests', async () => {
    await expect(
      verifierWith({ dpop: { nonce: true } }).verify(await mintToken(signer)),
    ).resolves.toBeDefined()
  })
})

describe('modes required and disabled', () => {
  it('required: refuses unbound tokens, accepts bound ones with their proof', async () => {
    const verifier = verifierWith({ dpop: 'required' })
    expect(verifier.dpop?.mode).toBe('required')
    await expect(verifier.verify(await mintToken(signer))).rejects.toThrow(/only DPoP-bound/)
    await expect(withProof(verifier, await mintToken(signer))).rejects.toThrow(/not DPoP-bound/)
    await expect(withProof(verifier, await boundToken(signer, client))).resolves.toBeDefined()
  })

  it('disabled: bearer tokens only; a DPoP-bound token is refused either way', async () => {
    const verifier = verifierWith({ dpop: { mode: 'disabled' } })
    expect(verifier.dpop).toEqual({ mode: 'disabled', algorithms: [] })
    await expect(verifier.verify(await mintToken(signer))).resolves.toBeDefined()
    const token = await boundToken(signer, client)
    await expect(verifier.verify(token)).rejects.toThrow(InvalidTokenError)
    await expect(withProof(verifier, token)).rejects.toThrow(/does not accept DPoP/)
  })

  it('combines the modes of several entries for the challenges', async () => {
    const other = await makeKey('ES256', 'other')
    const entry = (issuer: string, key: TestKey, dpop: VerifierOptions['dpop']): VerifierOptions => ({
      issuer,
      audience: AUDIENCE,
      jwks: { keys: [key.publicJwk] },
      dpop,
    })
    const mixed = createVerifier([
      entry(ISSUER, signer, 'required'),
      entry('https://b.example', other, 'disabled'),
    ])
    expect(mixed.dpop?.mode).toBe('allowed')
    const strict = createVerifier([
      entry(ISSUER, signer, 'required'),
      entry('https://b.example', other, { mode: 'required', algorithms: ['EdDSA'] }),
    ])
    expect(strict.dpop?.mode).toBe('required')
    expect(strict.dpop?.algorithms).toEqual(expect.arrayContaining(['ES256', 'EdDSA']))
    // Each token is judged by its own entry's mode.
    await expect(mixed.verify(await mintToken(signer))).rejects.toThrow(/only DPoP-bound/)
    const b = await mintToken(other, accessTokenClaims({ iss: 'https://b.example' }))
    await expect(mixed.verify(b)).resolves.toBeDefined()
  })
})

describe('introspection answers', () => {
  let as: TestIssuer
  beforeAll(async () => {
    as = await startTestIssuer()
  })
  afterAll(() => as.close())

  it('binds an opaque token by the cnf.jkt of its introspection answer (§6.2)', async () => {
    const OPAQUE = 'b3BhcXVlLWRwb3AtYm91bmQtdG9rZW4'
    as.onIntrospect(() => ({
      body: {
        active: true,
        iss: as.issuer,
        aud: AUDIENCE,
        client_id: 'service-a',
        token_type: 'DPoP',
        exp: Math.floor(Date.now() / 1000) + 600,
        cnf: { jkt: client.jkt },
      },
    }))
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: AUDIENCE,
      introspection: {
        clientId: 'api',
        auth: clientSecretBasic('secret'),
        endpoint: as.introspectionEndpoint,
      },
    })
    await expect(verifier.verify(OPAQUE)).rejects.toThrow(/DPoP-bound/)
    await expect(withProof(verifier, OPAQUE, thief)).rejects.toThrow(/another key/)
    expect((await withProof(verifier, OPAQUE)).confirmation).toEqual({ jkt: client.jkt })
    await verifier.close()
  })

  it('keeps the binding of a JWT checked by introspection too (mode all), whatever the answer says', async () => {
    const jwtSigner = await makeKey('ES256', 'introspected')
    let answerCnf: unknown
    as.onIntrospect(() => ({
      body: {
        active: true,
        iss: as.issuer,
        aud: AUDIENCE,
        client_id: 'service-a',
        exp: Math.floor(Date.now() / 1000) + 600,
        ...(answerCnf === undefined ? {} : { cnf: answerCnf }),
      },
    }))
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: AUDIENCE,
      jwks: { keys: [jwtSigner.publicJwk] },
      introspection: {
        clientId: 'api',
        auth: clientSecretBasic('secret'),
        endpoint: as.introspectionEndpoint,
        mode: 'all',
        maxTtlMs: 1,
      },
    })
    const token = await mintToken(jwtSigner, accessTokenClaims({ iss: as.issuer, cnf: { jkt: client.jkt } }))
    // The answer leaves cnf out: the JWT's binding still holds.
    await expect(verifier.verify(token)).rejects.toThrow(/DPoP-bound/)
    expect((await withProof(verifier, token)).confirmation).toEqual({ jkt: client.jkt })
    // The answer names another key: refused.
    answerCnf = { jkt: thief.jkt }
    const other = await mintToken(jwtSigner, accessTokenClaims({ iss: as.issuer, cnf: { jkt: client.jkt } }))
    await expect(withProof(verifier, other)).rejects.toThrow(/another key than its introspection answer/)
    await verifier.close()
  })
})

describe('options', () => {
  it('refuses a bad dpop option when the verifier is created', () => {
    for (const dpop of [
      'maybe',
      { mode: 'on' },
      { algorithms: ['HS256'] },
      { algorithms: ['none'] },
      { algorithms: [] },
      { iatWindowSec: -1 },
      { replayStore: {} },
      { replayStore: new MemoryDpopReplayStore(), replayCacheMaxEntries: 10 },
      { replayCacheMaxEntries: 0 },
      { nonce: { secret: 'short' } },
      { nonce: { windowSec: 0 } },
      { nonce: 'yes' },
      7,
    ]) {
      expect(() => verifierWith({ dpop: dpop as VerifierOptions['dpop'] }), JSON.stringify(dpop)).toThrow(
        ConfigurationError,
      )
    }
  })

  it('refuses a malformed dpop request as a mistake of the calling code', async () => {
    const verifier = verifierWith()
    const token = await boundToken(signer, client)
    for (const dpop of [
      { proof: 'x', method: '', url: URL_ },
      { proof: 'x', method: 'GET', url: '/things' },
      { proof: 'x', method: 'GET', url: 'ftp://x/' },
      { proof: 7, method: 'GET', url: URL_ },
      'proof',
    ]) {
      await expect(verifier.verify(token, { dpop } as never), JSON.stringify(dpop)).rejects.toThrow(
        ConfigurationError,
      )
    }
  })
})
