/**
 * `jwks: { keys }`: keys given in the options, never fetched; and the JWKS cache options under
 * their new name `jwksCache` (the old shape under `jwks` is refused, naming it).
 */
import { ConfigurationError } from '@oauth-m2m/core'
import {
  createVerifier,
  InvalidTokenError,
  TemporarilyUnavailableError,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { exportJWK, generateKeyPair, type JWK } from 'jose'
import { type Dispatcher, MockAgent } from 'undici'
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'

let es256: TestKey
let rs256: TestKey
let stranger: TestKey

beforeAll(async () => {
  es256 = await makeKey('ES256', 'static-es')
  rs256 = await makeKey('RS256', 'static-rs')
  stranger = await makeKey('ES256', 'static-es') // same kid, other key
})

/** A dispatcher on which every request fails (no network allowed), counting the attempts. */
let agent: MockAgent
let dispatcher: Dispatcher
let requests: number
beforeEach(() => {
  agent = new MockAgent()
  agent.disableNetConnect()
  requests = 0
  dispatcher = agent.compose((dispatch) => (options, handler) => {
    requests++
    return dispatch(options, handler)
  })
})
afterEach(() => agent.close())

function staticVerifier(overrides: Partial<VerifierOptions> = {}) {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [es256.publicJwk, rs256.publicJwk] },
    dispatcher,
    tokenCache: false,
    ...overrides,
  })
}

describe('a static key set', () => {
  it('verifies tokens without a single request', async () => {
    const verifier = staticVerifier()
    for (const key of [es256, rs256, es256]) {
      await expect(verifier.verify(await mintToken(key))).resolves.toMatchObject({ clientId: 'service-a' })
    }
    expect(requests).toBe(0)
    await verifier.close()
  })

  it('is what makes the difference: the same dispatcher fails a verifier that discovers its keys', async () => {
    const verifier = createVerifier({ issuer: ISSUER, audience: AUDIENCE, dispatcher, tokenCache: false })
    await expect(verifier.verify(await mintToken(es256))).rejects.toBeInstanceOf(TemporarilyUnavailableError)
    expect(requests).toBeGreaterThan(0)
    await verifier.close()
  })

  it('refuses an unknown kid, a forged signature or a disallowed algorithm, still without a request', async () => {
    const verifier = staticVerifier({ algorithms: ['ES256'] })
    await expect(verifier.verify(await mintToken(es256, undefined, { kid: 'rotated-in' }))).rejects.toThrow(
      'no key of the issuer matches',
    )
    await expect(verifier.verify(await mintToken(stranger))).rejects.toThrow(
      "the token's signature is not valid",
    )
    await expect(verifier.verify(await mintToken(rs256))).rejects.toThrow('algorithm that is not allowed')
    expect(requests).toBe(0)
    await verifier.close()
  })

  it('serves every issuer of the entry, and each entry of an array its own', async () => {
    const other = 'https://other-as.example'
    const verifier = createVerifier([
      { issuer: [ISSUER, `${ISSUER}/v2`], audience: AUDIENCE, jwks: { keys: [es256.publicJwk] }, dispatcher },
      { issuer: other, audience: AUDIENCE, jwks: { keys: [rs256.publicJwk] }, dispatcher },
    ])
    await expect(
      verifier.verify(await mintToken(es256, accessTokenClaims({ iss: `${ISSUER}/v2` }))),
    ).resolves.toBeTruthy()
    await expect(
      verifier.verify(await mintToken(rs256, accessTokenClaims({ iss: other }))),
    ).resolves.toBeTruthy()
    await expect(
      verifier.verify(await mintToken(rs256, accessTokenClaims({ iss: ISSUER }))),
    ).rejects.toBeInstanceOf(InvalidTokenError)
    expect(requests).toBe(0)
    await verifier.close()
  })

  it('is copied: changing the given JWK later changes nothing', async () => {
    const jwk: JWK = { ...es256.publicJwk }
    const verifier = staticVerifier({ jwks: { keys: [jwk] } })
    jwk.x = rs256.publicJwk.n
    await expect(verifier.verify(await mintToken(es256))).resolves.toBeTruthy()
    await verifier.close()
  })
})

describe('invalid key sets', () => {
  let privateJwk: JWK
  beforeAll(async () => {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true })
    privateJwk = { ...(await exportJWK(privateKey)), kid: 'leaked' }
  })

  it.each<[string, () => unknown[]]>([
    ['a private key', () => [es256.publicJwk, privateJwk]],
    ['a symmetric key', () => [es256.publicJwk, { kty: 'oct', k: 'c2VjcmV0', kid: 'hmac' }]],
    ['an encryption key', () => [es256.publicJwk, { ...rs256.publicJwk, use: 'enc' }]],
    ['a key without kty', () => [es256.publicJwk, { kid: 'x', n: 'abc', e: 'AQAB' }]],
    ['something that is not a key', () => [es256.publicJwk, 'not a key']],
  ])('holding %s is a ConfigurationError naming the key', (_, keys) => {
    expect(() => staticVerifier({ jwks: { keys: keys() as JWK[] } })).toThrow(
      /^createVerifier: jwks\.keys\[1\] is not a public signing key/,
    )
  })

  it.each<[string, () => unknown]>([
    ['no keys', () => ({ keys: [] })],
    ['keys not an array', () => ({ keys: es256.publicJwk })],
    ['not an object', () => [es256.publicJwk]],
    ['an unknown member', () => ({ keys: [es256.publicJwk], kid: 'x' })],
  ])('%s is a ConfigurationError', (_, jwks) => {
    expect(() => staticVerifier({ jwks: jwks() as VerifierOptions['jwks'] })).toThrow(ConfigurationError)
  })

  it('beside jwksUri or jwksCache is a ConfigurationError', () => {
    expect(() => staticVerifier({ jwksUri: 'https://as.test.example/jwks' })).toThrow(/exclusive/)
    expect(() => staticVerifier({ jwksCache: { maxAgeMs: 1000 } })).toThrow(/nothing is fetched/)
  })
})

describe('the JWKS cache options', () => {
  it.each<[string, unknown]>([
    ['the old shape', { maxAgeMs: 60_000, cooldownMs: 1_000 }],
    ['the old shape with now', { now: () => 0 }],
    ['an empty object', {}],
    ['cache options beside keys', { keys: [], cooldownMs: 1_000 }],
  ])('under jwks (%s) are a ConfigurationError naming jwksCache', (_, jwks) => {
    const options = { issuer: ISSUER, audience: AUDIENCE, jwks } as unknown as VerifierOptions
    expect(() => createVerifier(options)).toThrow(ConfigurationError)
    expect(() => createVerifier(options)).toThrow(/now named jwksCache/)
  })

  it('are taken under jwksCache', () => {
    expect(() =>
      createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksCache: { maxAgeMs: 60_000 } }),
    ).not.toThrow()
    expect(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksCache: { maxAgeMs: -1 } })).toThrow(
      /jwksCache\.maxAgeMs/,
    )
  })
})
