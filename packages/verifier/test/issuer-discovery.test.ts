/**
 * What the verifier learns from each issuer's RFC 8414 metadata: where its keys are, which
 * algorithms it uses, and — with several issuers — which key set a token's `iss` selects.
 */
import { createVerifier, InvalidTokenError, TemporarilyUnavailableError } from '@oauth-m2m/verifier'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { accessTokenClaims, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const AUDIENCE = 'https://api.example'
let first: TestIssuer
let second: TestIssuer
let firstKey: TestKey
let secondKey: TestKey

beforeEach(async () => {
  firstKey = await makeKey('ES256', 'shared-kid')
  secondKey = await makeKey('ES256', 'shared-kid')
  first = await startTestIssuer([firstKey.publicJwk])
  second = await startTestIssuer([secondKey.publicJwk])
})
afterEach(async () => {
  await first.close()
  await second.close()
})

const tokenOf = (issuer: TestIssuer, key: TestKey) =>
  mintToken(key, accessTokenClaims({ iss: issuer.issuer, aud: AUDIENCE }))

describe('discovery', () => {
  it('finds the JWKS through the issuer metadata, once', async () => {
    const verifier = createVerifier({ issuer: first.issuer, audience: AUDIENCE, tokenCache: false })
    for (let i = 0; i < 5; i++) await verifier.verify(await tokenOf(first, firstKey))
    expect(first.counts.metadata).toBe(1)
    expect(first.counts.jwks).toBe(1)
  })

  it('is a 503-class error while the metadata cannot be fetched, and is retried after the cooldown', async () => {
    let clockMs = Date.now()
    const verifier = createVerifier({
      issuer: first.issuer,
      audience: AUDIENCE,
      timeoutMs: 1000,
      discoveryFailureCooldownMs: 1000,
      now: () => clockMs,
    })
    first.setMetadata({ issuer: 'https://someone-else.example' }) // RFC 8414 §3.3 mismatch
    await expect(verifier.verify(await tokenOf(first, firstKey))).rejects.toThrow(TemporarilyUnavailableError)
    first.setMetadata({})
    clockMs += 1000
    await expect(verifier.verify(await tokenOf(first, firstKey))).resolves.toBeDefined()
    expect(first.counts.metadata).toBe(2)
  })

  it("reads the now option for the JWKS cache's freshness too", async () => {
    let clockMs = Date.now()
    const verifier = createVerifier({
      issuer: first.issuer,
      audience: AUDIENCE,
      tokenCache: false,
      jwksCache: { maxAgeMs: 60_000 },
      now: () => clockMs,
    })
    await verifier.verify(await tokenOf(first, firstKey))
    clockMs += 59_999
    await verifier.verify(await tokenOf(first, firstKey))
    expect(first.counts.jwks).toBe(1)
    clockMs += 1
    await verifier.verify(await tokenOf(first, firstKey))
    expect(first.counts.jwks).toBe(2)
  })

  it('allows the algorithms the issuer advertises, plus RS256', async () => {
    first.setMetadata({ id_token_signing_alg_values_supported: ['ES256', 'HS256'] })
    const ed = await makeKey('EdDSA', 'ed')
    const rs = await makeKey('RS256', 'rs')
    first.setKeys([firstKey.publicJwk, ed.publicJwk, rs.publicJwk])
    const verifier = createVerifier({ issuer: first.issuer, audience: AUDIENCE })
    await expect(verifier.verify(await tokenOf(first, firstKey))).resolves.toBeDefined()
    await expect(verifier.verify(await tokenOf(first, rs))).resolves.toBeDefined()
    await expect(verifier.verify(await tokenOf(first, ed))).rejects.toThrow(/algorithm that is not allowed/)
  })
})

describe('several issuers', () => {
  it('verify each token with the keys of the issuer it names', async () => {
    const verifier = createVerifier({ issuer: [first.issuer, second.issuer], audience: AUDIENCE })
    await expect(verifier.verify(await tokenOf(first, firstKey))).resolves.toMatchObject({
      issuer: first.issuer,
    })
    await expect(verifier.verify(await tokenOf(second, secondKey))).resolves.toMatchObject({
      issuer: second.issuer,
    })
  })

  it("refuse a token naming one issuer but signed with the other's key of the same kid", async () => {
    const verifier = createVerifier({ issuer: [first.issuer, second.issuer], audience: AUDIENCE })
    await expect(verifier.verify(await tokenOf(first, secondKey))).rejects.toThrow(InvalidTokenError)
  })

  it('refuse an unknown issuer without any network request', async () => {
    const verifier = createVerifier({ issuer: [first.issuer, second.issuer], audience: AUDIENCE })
    const token = await mintToken(firstKey, accessTokenClaims({ iss: 'https://evil.example', aud: AUDIENCE }))
    await expect(verifier.verify(token)).rejects.toThrow(/unexpected issuer/)
    expect(first.counts.metadata + second.counts.metadata).toBe(0)
  })
})
