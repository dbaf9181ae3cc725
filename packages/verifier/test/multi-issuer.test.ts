/**
 * `createVerifier([a, b])`: several issuers, each with its own keys and rules. The token's `iss`
 * picks the entry before any key is fetched, an unknown `iss` is refused without network traffic,
 * and a token is only ever judged (and cached) under its own entry's rules.
 */
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import {
  CHECK_REFUSED_DESCRIPTION,
  createVerifier,
  InvalidTokenError,
  type Principal,
  VerifierClosedError,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { accessTokenClaims, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const API = 'https://api.multi.example'
const LEGACY_API = 'api://legacy'

let keyA: TestKey
let keyB: TestKey
let a: TestIssuer
let b: TestIssuer
let checkedB: Principal[]

beforeAll(async () => {
  keyA = await makeKey('ES256', 'a-key')
  keyB = await makeKey('RS256', 'b-key')
})
beforeEach(async () => {
  a = await startTestIssuer([keyA.publicJwk])
  b = await startTestIssuer([keyB.publicJwk])
  checkedB = []
})
afterEach(async () => {
  await a.close()
  await b.close()
})

/** Entry A: strict RFC 9068. Entry B: a provider-style issuer with its own rules. */
function entries(overridesB: Partial<VerifierOptions> = {}): [VerifierOptions, VerifierOptions] {
  return [
    { issuer: a.issuer, audience: API, algorithms: ['ES256'] },
    {
      issuer: b.issuer,
      audience: LEGACY_API,
      algorithms: ['RS256'],
      typ: 'lenient',
      claims: { clientId: ['azp'], scopes: ['roles'] },
      check: (claims, principal) => {
        checkedB.push(principal)
        if (claims.tid !== 'tenant-1') throw new Error('other tenant')
      },
      ...overridesB,
    },
  ]
}

const tokenA = (claims: Record<string, unknown> = {}, key = keyA) =>
  mintToken(key, accessTokenClaims({ iss: a.issuer, aud: API, ...claims }))
const tokenB = (claims: Record<string, unknown> = {}, key = keyB) =>
  mintToken(
    key,
    accessTokenClaims({
      iss: b.issuer,
      aud: LEGACY_API,
      client_id: undefined,
      scope: undefined,
      azp: 'legacy-app',
      roles: ['Things.Read'],
      tid: 'tenant-1',
      ...claims,
    }),
    { typ: 'JWT' },
  )

const fetches = (issuer: TestIssuer) => issuer.counts.metadata + issuer.counts.jwks

describe('each token is judged by the entry its iss names', () => {
  it('with that entry keys, claim names and check', async () => {
    const verifier = createVerifier(entries())
    await expect(verifier.verify(await tokenA())).resolves.toMatchObject({
      issuer: a.issuer,
      clientId: 'service-a',
      scopes: ['read:things', 'write:things'],
    })
    await expect(verifier.verify(await tokenB())).resolves.toMatchObject({
      issuer: b.issuer,
      clientId: 'legacy-app',
      scopes: ['Things.Read'],
    })
    expect(checkedB).toHaveLength(1)
    await verifier.close()
  })

  it("not by another entry's rules", async () => {
    const verifier = createVerifier(entries())
    // typ JWT is fine for B, not for A.
    await expect(
      verifier.verify(await mintToken(keyA, accessTokenClaims({ iss: a.issuer, aud: API }), { typ: 'JWT' })),
    ).rejects.toThrow('"typ" is not at+jwt')
    // B's audience, claim names and check do not apply to A's tokens.
    await expect(verifier.verify(await tokenA({ aud: LEGACY_API }))).rejects.toThrow(
      'not meant for this audience',
    )
    await expect(verifier.verify(await tokenA({ client_id: undefined, azp: 'x' }))).rejects.toThrow(
      'the token names no client (no "client_id" claim)',
    )
    expect(checkedB).toHaveLength(0)
    // A's rules do not apply to B's tokens.
    await expect(verifier.verify(await tokenB({ aud: API }))).rejects.toThrow('not meant for this audience')
    await expect(verifier.verify(await tokenB({ tid: 'tenant-2' }))).rejects.toThrow(
      CHECK_REFUSED_DESCRIPTION,
    )
    await verifier.close()
  })

  it("with that entry's keys and algorithms only", async () => {
    const verifier = createVerifier(entries())
    // Signed by A's key but claiming B's issuer: B's key set has no such key.
    await expect(verifier.verify(await tokenB({}, keyA))).rejects.toThrow(InvalidTokenError)
    // Signed by B's key but claiming A's issuer: RS256 is not in A's allowlist.
    await expect(verifier.verify(await tokenA({}, keyB))).rejects.toThrow('algorithm that is not allowed')
    await verifier.close()
  })

  it('fetching only that issuer keys', async () => {
    const verifier = createVerifier(entries())
    await verifier.verify(await tokenA())
    expect(fetches(a)).toBeGreaterThan(0)
    expect(fetches(b)).toBe(0)
    await verifier.close()
  })
})

describe('an iss no entry names', () => {
  it.each<[string, Record<string, unknown>, string]>([
    ['another issuer', { iss: 'https://evil.example' }, 'the token was issued by an unexpected issuer'],
    ['no iss', { iss: undefined }, 'the token has no "iss" claim'],
    ['a non-string iss', { iss: 42 }, 'the token was issued by an unexpected issuer'],
  ])('(%s) is invalid_token, before any request', async (_, claims, message) => {
    const verifier = createVerifier(entries())
    const err = await verifier
      .verify(await mintToken(keyA, accessTokenClaims(claims)))
      .catch((e: unknown) => e)
    expect(err).toBeInstanceOf(InvalidTokenError)
    expect((err as Error).message).toBe(message)
    expect(fetches(a) + fetches(b)).toBe(0)
    await verifier.close()
  })
})

describe('caches', () => {
  it('hold a token under its own entry, with that entry settings', async () => {
    let checkedA = 0
    const [optionsA, optionsB] = entries({ tokenCache: false })
    const verifier = createVerifier([
      {
        ...optionsA,
        check: () => {
          checkedA++
        },
      },
      optionsB,
    ])
    const first = await tokenA()
    const second = await tokenB()
    for (let i = 0; i < 3; i++) {
      await verifier.verify(first)
      await verifier.verify(second)
    }
    expect(checkedA).toBe(1) // A caches: its check ran once
    expect(checkedB).toHaveLength(3) // B's cache is off: every call is checked in full
    await verifier.close()
  })

  it('are all closed by one close()', async () => {
    const verifier = createVerifier(entries())
    const first = await tokenA()
    const second = await tokenB()
    await verifier.verify(first)
    await verifier.verify(second)
    await verifier.close()
    await expect(verifier.verify(first)).rejects.toBeInstanceOf(VerifierClosedError)
    await expect(verifier.verify(second)).rejects.toBeInstanceOf(VerifierClosedError)
  })
})

describe('opaque tokens', () => {
  it('go to the one entry with introspection, under its rules', async () => {
    b.onIntrospect(() => ({
      body: { active: true, iss: b.issuer, aud: LEGACY_API, azp: 'legacy-app', tid: 'tenant-1' },
    }))
    const verifier = createVerifier(
      entries({
        introspection: { endpoint: b.introspectionEndpoint, clientId: 'rs', auth: clientSecretBasic('s') },
      }),
    )
    await expect(verifier.verify('b3BhcXVlLW11bHRpLWlzc3Vlcg')).resolves.toMatchObject({
      clientId: 'legacy-app',
      issuer: b.issuer,
      source: 'introspection',
    })
    expect(checkedB).toHaveLength(1)
    await verifier.close()
  })

  it('are refused when no entry introspects', async () => {
    const verifier = createVerifier(entries())
    await expect(verifier.verify('b3BhcXVlLW11bHRpLWlzc3Vlcg')).rejects.toThrow('not a JWT')
    await verifier.close()
  })
})

describe('configurations', () => {
  it('two entries with the same issuer are a ConfigurationError', () => {
    const [optionsA, optionsB] = entries()
    expect(() => createVerifier([optionsA, { ...optionsB, issuer: a.issuer }])).toThrow(ConfigurationError)
    expect(() => createVerifier([optionsA, { ...optionsB, issuer: [b.issuer, a.issuer] }])).toThrow(
      /options\[0\] and options\[1\] both name the issuer/,
    )
  })

  it('one entry may still name several issuers that share its rules', () => {
    const [optionsA, optionsB] = entries()
    expect(() =>
      createVerifier([{ ...optionsA, issuer: [a.issuer, `${a.issuer}/v2`] }, optionsB]),
    ).not.toThrow()
  })

  it('an empty array is a ConfigurationError', () => {
    expect(() => createVerifier([])).toThrow(ConfigurationError)
  })

  it('introspection on two entries is a ConfigurationError', () => {
    const introspection = { clientId: 'rs', auth: clientSecretBasic('s') }
    const [optionsA, optionsB] = entries({ introspection })
    expect(() => createVerifier([{ ...optionsA, introspection }, optionsB])).toThrow(/at most one entry/)
  })

  it('an invalid entry is named in the error', () => {
    const [optionsA, optionsB] = entries()
    expect(() => createVerifier([optionsA, { ...optionsB, audience: null }])).toThrow(
      /^createVerifier: options\[1\]: audience null/,
    )
  })
})
