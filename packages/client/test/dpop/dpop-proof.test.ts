/**
 * Differential test of the node:crypto proof signer against jose: every proof the client makes,
 * for any method, URL, nonce and token, with every algorithm, must pass jose's `jwtVerify` with
 * the key it embeds and carry exactly the RFC 9449 §4.2 header and claims — nothing more. Each
 * also passes the §4.3 check the server and verifier use (core's `verifyDpopProof`).
 */
import { createHash, generateKeyPairSync, webcrypto } from 'node:crypto'
import { verifyDpopProof } from '@oauth-m2m/core/internal'
import fc from 'fast-check'
import { calculateJwkThumbprint, EmbeddedJWK, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'
import { DPOP_PROOF_ALGS, type DpopKey, generateDpopKey, importDpopKey } from '../../src/dpop/dpop-key.js'
import { DpopProofSigner, htuOf } from '../../src/dpop/dpop-proof.js'

const NOW_MS = 1_800_000_123_456
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** HTTP method tokens (RFC 9110 §9.1), standard or not. */
const methodArb = fc.oneof(
  fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'),
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,11}$/),
)
const urlArb = fc.webUrl({ validSchemes: ['https', 'http'], withQueryParameters: true, withFragments: true })
/** RFC 9449 §8.1 nonce syntax. */
const nonceArb = fc.option(fc.stringMatching(/^[\x21\x23-\x5b\x5d-\x7e]{1,40}$/), { nil: undefined })
const tokenArb = fc.option(fc.stringMatching(/^[A-Za-z0-9\-._~+/]{1,80}=*$/), { nil: undefined })

/** The `htu` the RFC asks for, computed here without the client's code: no query, no fragment. */
function expectedHtu(url: string): string {
  const u = new URL(url)
  u.search = ''
  u.hash = ''
  u.username = ''
  u.password = ''
  return u.href
}

const keys: DpopKey[] = DPOP_PROOF_ALGS.map((alg) => generateDpopKey(alg))

describe('DPoP proofs', () => {
  it.each(keys.map((k) => [k.alg, k] as const))(
    'signed with %s verify with jose and carry exactly the RFC 9449 header and claims',
    async (alg, key) => {
      const signer = new DpopProofSigner(key, () => NOW_MS)
      const jtis = new Set<string>()
      await fc.assert(
        fc.asyncProperty(methodArb, urlArb, nonceArb, tokenArb, async (method, url, nonce, accessToken) => {
          const proof = signer.proof({ method, url, nonce, accessToken })
          const { protectedHeader, payload } = await jwtVerify(proof, EmbeddedJWK, {
            typ: 'dpop+jwt',
            algorithms: [alg],
            currentDate: new Date(NOW_MS),
          })
          expect(Object.keys(protectedHeader).sort()).toEqual(['alg', 'jwk', 'typ'])
          expect(protectedHeader.alg).toBe(alg)
          expect(protectedHeader.typ).toBe('dpop+jwt')
          const jwk = protectedHeader.jwk as Record<string, unknown>
          for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member)
          expect(jwk).toEqual(key.publicJwk)
          expect(await calculateJwkThumbprint(jwk)).toBe(signer.jkt)

          const expected: Record<string, unknown> = {
            jti: payload.jti,
            htm: method,
            htu: expectedHtu(url),
            iat: Math.floor(NOW_MS / 1000),
          }
          if (nonce !== undefined) expected.nonce = nonce
          if (accessToken !== undefined) {
            expected.ath = createHash('sha256').update(accessToken, 'ascii').digest('base64url')
          }
          expect(payload).toStrictEqual(expected)
          expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/)
          expect(jtis.has(payload.jti as string)).toBe(false)
          jtis.add(payload.jti as string)
          const checked = verifyDpopProof(proof, {
            method,
            url,
            accessToken,
            nowSec: NOW_MS / 1000,
            nonce: (sent) => sent === nonce,
          })
          expect(checked.jkt).toBe(signer.jkt)
        }),
        { numRuns: alg === 'ES256' ? 300 : 60 },
      )
    },
  )

  it('never makes the same proof twice for the same request', () => {
    const signer = new DpopProofSigner(keys[0]!, () => NOW_MS)
    const proofs = new Set<string>()
    for (let i = 0; i < 1000; i++) {
      proofs.add(signer.proof({ method: 'GET', url: 'https://api.example.test/x', accessToken: 't' }))
    }
    expect(proofs.size).toBe(1000)
  })

  it('takes iat from the clock it is given, in whole seconds', async () => {
    let clock = 1_700_000_000_999
    const signer = new DpopProofSigner(keys[0]!, () => clock)
    const iat = async () =>
      (
        await jwtVerify(signer.proof({ method: 'GET', url: 'https://a.test/' }), EmbeddedJWK, {
          currentDate: new Date(clock),
        })
      ).payload.iat
    expect(await iat()).toBe(1_700_000_000)
    clock += 61_000
    expect(await iat()).toBe(1_700_000_061)
  })

  it('hashes each token for ath, also after another one', async () => {
    const signer = new DpopProofSigner(keys[0]!, () => NOW_MS)
    const ath = async (accessToken: string) =>
      (
        await jwtVerify(signer.proof({ method: 'GET', url: 'https://a.test/', accessToken }), EmbeddedJWK, {
          currentDate: new Date(NOW_MS),
        })
      ).payload.ath
    const hash = (t: string) => createHash('sha256').update(t).digest('base64url')
    expect(await ath('one')).toBe(hash('one'))
    expect(await ath('two')).toBe(hash('two'))
    expect(await ath('one')).toBe(hash('one'))
  })

  it.each([
    ['https://API.Example.test:443/a/b?x=1#frag', 'https://api.example.test/a/b'],
    ['http://user:pw@127.0.0.1:8080/token?q', 'http://127.0.0.1:8080/token'],
    ['https://as.example.test', 'https://as.example.test/'],
  ])('htu of %s is %s', (url, htu) => {
    expect(htuOf(url)).toBe(htu)
  })

  it('signs with a user key given as a CryptoKeyPair, jose agreeing', async () => {
    const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, [
      'sign',
      'verify',
    ])
    const key = importDpopKey('test', pair, undefined)
    const proof = new DpopProofSigner(key, () => NOW_MS).proof({
      method: 'POST',
      url: 'https://as.test/token',
    })
    const { protectedHeader } = await jwtVerify(proof, EmbeddedJWK, { currentDate: new Date(NOW_MS) })
    expect(protectedHeader.jwk).toEqual(await webcrypto.subtle.exportKey('jwk', pair.publicKey).then(pick))
  })

  it('signs PS256 with a plain RSA KeyObject, jose agreeing', async () => {
    const key = importDpopKey('test', generateKeyPairSync('rsa', { modulusLength: 2048 }), 'PS256')
    const proof = new DpopProofSigner(key, () => NOW_MS).proof({
      method: 'POST',
      url: 'https://as.test/token',
    })
    const { protectedHeader } = await jwtVerify(proof, EmbeddedJWK, {
      algorithms: ['PS256'],
      currentDate: new Date(NOW_MS),
    })
    expect(protectedHeader.alg).toBe('PS256')
  })
})

function pick(jwk: webcrypto.JsonWebKey): Record<string, unknown> {
  return { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }
}
