import { generateKeyPairSync } from 'node:crypto'
import { InvalidDpopProofError, UseDpopNonceError } from '@oauth-m2m/core'
import {
  accessTokenHash,
  type DpopProofExpectations,
  jwkThumbprint,
  MAX_DPOP_PROOF_LENGTH,
  verifyDpopProof,
} from '@oauth-m2m/core/internal'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  b64url,
  encodeJson,
  makeProof,
  type ProofChanges,
  type ProofKey,
  proofKey,
  rawSignature,
  signCompact,
} from '../support/dpop-proofs.js'

const URL_ = 'https://rs.example.com/things'
const METHOD = 'GET'
const NOW = 1_800_000_000
const TOKEN = 'Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU'
const request = { method: METHOD, url: URL_, nowSec: NOW }
const expectations: DpopProofExpectations = { method: METHOD, url: URL_, nowSec: NOW }

let es256: ProofKey
beforeAll(() => {
  es256 = proofKey('ES256')
})

function proof(changes?: ProofChanges): string {
  return makeProof(es256, request, changes)
}

/** The error `verifyDpopProof` throws, asserting it is an InvalidDpopProofError that does not quote the proof. */
function refusal(value: unknown, expect_: Partial<DpopProofExpectations> = {}): InvalidDpopProofError {
  let caught: unknown
  try {
    verifyDpopProof(value, { ...expectations, ...expect_ })
  } catch (err) {
    caught = err
  }
  expect(caught).toBeInstanceOf(InvalidDpopProofError)
  const err = caught as InvalidDpopProofError
  expect(err.code).toBe('ERR_INVALID_DPOP_PROOF')
  expect(err.error).toBe('invalid_dpop_proof')
  expect(err.status).toBe(401)
  if (typeof value === 'string' && value.length > 10) {
    for (const segment of value.split('.')) {
      if (segment.length > 8) expect(JSON.stringify(err.toJSON())).not.toContain(segment)
    }
  }
  return err
}

describe('verifyDpopProof accepts (RFC 9449 §4.2, §4.3)', () => {
  it.each(['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'PS256', 'RS256'])(
    'an honest %s proof, returning its thumbprint, jti, iat and key',
    (alg) => {
      const key = proofKey(alg)
      const value = makeProof(key, request, { claims: { jti: 'j-1', nonce: 'n-1' } })
      const verified = verifyDpopProof(value, expectations)
      expect(verified.jkt).toBe(jwkThumbprint(key.publicJwk))
      expect(verified.jti).toBe('j-1')
      expect(verified.iatSec).toBe(NOW)
      expect(verified.nonce).toBe('n-1')
      expect(verified.jwk).toEqual(key.publicJwk)
      expect(verified.header.typ).toBe('dpop+jwt')
      expect(verified.claims.htu).toBe(URL_)
    },
  )

  it('typ in any letter case and with the application/ prefix (media types, RFC 7515 §4.1.9)', () => {
    for (const typ of ['application/dpop+jwt', 'DPoP+JWT']) {
      expect(verifyDpopProof(proof({ header: { typ } }), expectations).jti).toBeTypeOf('string')
    }
  })

  it('an htu that differs only by query, fragment or normalisation', () => {
    for (const htu of [
      `${URL_}?page=2`,
      `${URL_}#top`,
      'HTTPS://RS.EXAMPLE.COM:443/things',
      'https://rs.example.com/a/../things',
      'https://rs.example.com/%74hings',
    ]) {
      expect(() => verifyDpopProof(proof({ claims: { htu } }), expectations), htu).not.toThrow()
    }
    expect(() => verifyDpopProof(proof(), { ...expectations, url: `${URL_}?x=1#f` })).not.toThrow()
  })

  it('iat at either edge of the window, and a window of another size', () => {
    for (const iat of [NOW - 60, NOW + 60])
      expect(() => verifyDpopProof(proof({ claims: { iat } }), expectations)).not.toThrow()
    expect(() =>
      verifyDpopProof(proof({ claims: { iat: NOW - 300 } }), { ...expectations, iatWindowSec: 300 }),
    ).not.toThrow()
  })

  it('the ath of the access token it comes with', () => {
    const value = proof({ claims: { ath: accessTokenHash(TOKEN) } })
    expect(() => verifyDpopProof(value, { ...expectations, accessToken: TOKEN })).not.toThrow()
  })

  it('uses the lexically last of duplicate header members, as RFC 7515 §4 allows and jose does', () => {
    const header = `{"typ":"JWT","alg":"ES256","jwk":${JSON.stringify(es256.publicJwk)},"typ":"dpop+jwt"}`
    const input = `${b64url(header)}.${encodeJson({ jti: 'x', htm: METHOD, htu: URL_, iat: NOW })}`
    const value = `${input}.${rawSignature('ES256', es256.privateKey, input)}`
    expect(verifyDpopProof(value, expectations).header.typ).toBe('dpop+jwt')
    const reversed = `{"typ":"dpop+jwt","alg":"ES256","jwk":${JSON.stringify(es256.publicJwk)},"typ":"JWT"}`
    const input2 = `${b64url(reversed)}.${encodeJson({ jti: 'x', htm: METHOD, htu: URL_, iat: NOW })}`
    expect(refusal(`${input2}.${rawSignature('ES256', es256.privateKey, input2)}`).message).toMatch(/typ/)
  })
})

describe('verifyDpopProof refuses a malformed proof (§4.3 rules 1-3)', () => {
  it('none at all, or not a string', () => {
    for (const value of [undefined, '', 42, null, ['a.b.c']])
      expect(refusal(value).message).toMatch(/no DPoP proof/)
  })

  it('longer than the cap', () => {
    const value = proof({ claims: { pad: 'x'.repeat(MAX_DPOP_PROOF_LENGTH) } })
    expect(refusal(value).message).toMatch(/longer than/)
  })

  it('not three base64url segments: two, four, five (JWE), padding, spaces, other characters', () => {
    const [h, p, s] = proof().split('.') as [string, string, string]
    for (const value of [
      `${h}.${p}`,
      `${h}.${p}.${s}.${s}`,
      `${h}.${h}.${p}.${p}.${s}`,
      `${h}.${p}.${s}=`,
      `${h}=.${p}.${s}`,
      `${h}.${p} .${s}`,
      ` ${h}.${p}.${s}`,
      `${h}.${p}.${s.replace(/[-_]/g, '+')}+`,
      `${h}..${s}`,
      `${h}.${p}.`,
      `${h}.${p}.${s}\n`,
    ]) {
      expect(refusal(value).message, value.slice(0, 20)).toMatch(/well-formed JWT/)
    }
  })

  it('a segment that cannot be base64url (4n+1 characters)', () => {
    const [h, p, s] = proof().split('.') as [string, string, string]
    expect(refusal(`${h}.${p}.${s}A`).message).toMatch(/well-formed JWT|signature/)
    expect(refusal(`${h}A.${p}.${s}`).message).toMatch(/well-formed JWT|header/)
  })

  it('a header or claims set that is not a JSON object', () => {
    const [, p, s] = proof().split('.') as [string, string, string]
    for (const header of [
      b64url('not json'),
      b64url('[1]'),
      b64url('"x"'),
      b64url(Buffer.from([0xff, 0xfe])),
    ]) {
      expect(refusal(`${header}.${p}.${s}`).message).toMatch(/header is not a JSON object/)
    }
    for (const claims of [b64url('[]'), b64url('nope'), b64url('null')]) {
      const input = `${encodeJson({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256.publicJwk })}.${claims}`
      expect(refusal(`${input}.${rawSignature('ES256', es256.privateKey, input)}`).message).toMatch(
        /claims is not a JSON object/,
      )
    }
  })

  it.each(['jti', 'htm', 'htu', 'iat'])('a proof without %s', (claim) => {
    expect(refusal(proof({ claims: { [claim]: undefined } })).message).toContain(`no "${claim}"`)
  })

  it('jti, htm, htu that are not non-empty strings, iat that is not a number, a jti too long', () => {
    for (const claims of [{ jti: '' }, { jti: 7 }, { htm: ['GET'] }, { htu: '' }, { htu: {} }]) {
      expect(refusal(proof({ claims })).message).toMatch(/not a non-empty string/)
    }
    expect(refusal(proof({ claims: { iat: String(NOW) } })).message).toMatch(/"iat" is not a number/)
    expect(refusal(proof({ claims: { jti: 'j'.repeat(257) } })).message).toMatch(/"jti" is longer/)
  })
})

describe('verifyDpopProof refuses a header it must not trust (§4.3 rules 4, 5, 7)', () => {
  it('a typ other than dpop+jwt, or none', () => {
    for (const typ of [undefined, 'JWT', 'at+jwt', 'dpop', 'application/dpop+jwt; x=1', 7]) {
      expect(refusal(proof({ header: { typ } })).message, String(typ)).toMatch(/"typ"/)
    }
  })

  it('alg none, and a missing alg', () => {
    // Unsecured: an empty signature segment, which is not even a JWS here; with bytes, not allowed.
    expect(refusal(proof({ header: { alg: 'none' } })).message).toMatch(/well-formed JWT/)
    expect(refusal(`${proof({ header: { alg: 'none' } })}AAAA`).message).toMatch(/not allowed/)
    expect(refusal(proof({ header: { alg: undefined }, signAlg: 'ES256' })).message).toMatch(/no "alg"/)
  })

  it('HS256 signed with the public key as the secret', () => {
    const secret = JSON.stringify(es256.publicJwk)
    expect(refusal(proof({ header: { alg: 'HS256' }, signKey: secret })).message).toMatch(/not allowed/)
    const oct = { kty: 'oct', k: b64url('secret') }
    expect(refusal(proof({ header: { alg: 'HS256', jwk: oct }, signKey: 'secret' })).message).toMatch(
      /not allowed/,
    )
  })

  it('an algorithm the server does not allow, or does not know', () => {
    expect(refusal(proof(), { algorithms: ['EdDSA'] }).message).toMatch(/not allowed/)
    expect(refusal(proof({ header: { alg: 'ES256K' }, signAlg: 'ES256' })).message).toMatch(/not allowed/)
  })

  it('no jwk, or a jwk that is not an object', () => {
    for (const jwk of [undefined, 'key', [es256.publicJwk], null]) {
      expect(refusal(proof({ header: { jwk } })).message).toMatch(/no "jwk" header/)
    }
  })

  it.each(['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k', 'priv'])(
    'a jwk with the private member %s',
    (member) => {
      const jwk = { ...es256.publicJwk, [member]: 'AQAB' }
      expect(refusal(proof({ header: { jwk } })).message).toMatch(/private key material/)
    },
  )

  it('the whole private key in jwk', () => {
    const jwk = es256.privateKey.export({ format: 'jwk' })
    expect(refusal(proof({ header: { jwk } })).message).toMatch(/private key material/)
  })

  it('a key that does not fit the algorithm: other type, other curve, use enc, other alg, key_ops', () => {
    const rsa = proofKey('RS256')
    expect(refusal(proof({ header: { jwk: rsa.publicJwk } })).message).toMatch(/key type/)
    const p384 = proofKey('ES384')
    expect(refusal(proof({ header: { jwk: p384.publicJwk } })).message).toMatch(/curve/)
    const x25519 = generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' })
    expect(refusal(makeProof(proofKey('EdDSA'), request, { header: { jwk: x25519 } })).message).toMatch(
      /curve/,
    )
    expect(refusal(proof({ header: { jwk: { ...es256.publicJwk, use: 'enc' } } })).message).toMatch(/"use"/)
    expect(refusal(proof({ header: { jwk: { ...es256.publicJwk, alg: 'ES384' } } })).message).toMatch(/"alg"/)
    for (const key_ops of [['sign'], [], ['verify', 'sign'], 'verify']) {
      expect(refusal(proof({ header: { jwk: { ...es256.publicJwk, key_ops } } })).message).toMatch(/key_ops/)
    }
    expect(refusal(proof({ header: { jwk: { ...es256.publicJwk, ext: 'yes' } } })).message).toMatch(/"ext"/)
    expect(() =>
      verifyDpopProof(
        proof({
          header: { jwk: { ...es256.publicJwk, use: 'sig', alg: 'ES256', key_ops: ['verify'], ext: true } },
        }),
        expectations,
      ),
    ).not.toThrow()
  })

  it('a jwk that is not a valid key: off the curve, members of the wrong type, RSA under 2048 bits', () => {
    const y = Buffer.from(String(es256.publicJwk.y), 'base64url')
    y[31]! ^= 1
    expect(refusal(proof({ header: { jwk: { ...es256.publicJwk, y: b64url(y) } } })).message).toMatch(
      /not a valid public key/,
    )
    expect(refusal(proof({ header: { jwk: { ...es256.publicJwk, x: 5 } } })).message).toMatch(
      /not a valid public key/,
    )
    const small = proofKey('RS256', 1024)
    expect(refusal(makeProof(small, request)).message).toMatch(/2048/)
  })

  it('an RSA key costlier than anyone uses: modulus over 4096 bits, exponent over 32 bits', () => {
    const rsa = proofKey('RS256')
    // An odd number of exactly `bits` bits: the import does not check that it is a product of primes.
    const modulus = (bits: number) => {
      const n = Buffer.alloc(bits / 8, 0xa5)
      n[0] = 0xc5
      return b64url(n)
    }
    const withKey = (members: Record<string, unknown>) =>
      makeProof(rsa, request, { header: { jwk: { ...rsa.publicJwk, ...members } } })
    expect(refusal(withKey({ n: modulus(8192) })).message).toMatch(/longer than 4096 bits/)
    expect(refusal(withKey({ n: modulus(4104) })).message).toMatch(/longer than 4096 bits/)
    expect(refusal(withKey({ e: b64url(Buffer.from([1, 0, 0, 0, 1])) })).message).toMatch(/exponent/)
    expect(refusal(withKey({ e: b64url(Buffer.alloc(255, 0xff)) })).message).toMatch(/exponent/)
    // At the limits the key is taken, and only the signature (made by another key) is wrong.
    expect(refusal(withKey({ n: modulus(4096) })).message).toMatch(/signature is not valid/)
    expect(refusal(withKey({ e: b64url(Buffer.from([0xff, 0xff, 0xff, 0xff])) })).message).toMatch(
      /signature is not valid/,
    )
    expect(() => verifyDpopProof(makeProof(rsa, request), expectations)).not.toThrow()
  })

  it('crit, as jose reads it: only b64, and b64 true', () => {
    expect(() => verifyDpopProof(proof({ header: { crit: ['b64'], b64: true } }), expectations)).not.toThrow()
    for (const header of [{ crit: ['exp'], exp: 1 }, { crit: [] }, { crit: 'b64' }, { crit: ['b64'] }]) {
      expect(refusal(proof({ header })).message).toMatch(/crit|extension|b64/)
    }
    const input = `${encodeJson({ typ: 'dpop+jwt', alg: 'ES256', jwk: es256.publicJwk, crit: ['b64'], b64: false })}.${encodeJson({})}`
    expect(refusal(`${input}.${rawSignature('ES256', es256.privateKey, input)}`).message).toMatch(/unencoded/)
  })
})

describe('verifyDpopProof refuses a forged signature (§4.3 rule 6)', () => {
  it('signed by another key than the one in jwk', () => {
    const other = proofKey('ES256')
    expect(refusal(proof({ signKey: other.privateKey })).message).toMatch(/signature is not valid/)
  })

  it('claims changed after signing, or no signature', () => {
    const [h, , s] = proof().split('.') as [string, string, string]
    const forged = encodeJson({ jti: 'x', htm: METHOD, htu: URL_, iat: NOW })
    expect(refusal(`${h}.${forged}.${s}`).message).toMatch(/signature is not valid/)
    const [h2, p2] = proof().split('.') as [string, string]
    expect(refusal(`${h2}.${p2}.AAAA`).message).toMatch(/signature is not valid/)
  })

  it('a signature of the wrong algorithm for the header (RS256 bytes under PS256)', () => {
    const rsa = proofKey('PS256')
    expect(refusal(makeProof(rsa, request, { signAlg: 'RS256' })).message).toMatch(/signature is not valid/)
  })
})

describe('verifyDpopProof refuses a proof for another request (§4.3 rules 8, 9, 11, 12)', () => {
  it('another method (htm), compared exactly', () => {
    for (const htm of ['POST', 'get', 'GET '])
      expect(refusal(proof({ claims: { htm } })).message).toMatch(/"htm"/)
  })

  it('another URL (htu): host, scheme, port, path, trailing slash; or not an http(s) URL', () => {
    for (const htu of [
      'https://other.example.com/things',
      'http://rs.example.com/things',
      'https://rs.example.com:8443/things',
      'https://rs.example.com/things/',
      'https://rs.example.com/other',
      'https://user@rs.example.com/things',
      'rs.example.com/things',
      '/things',
      'ftp://rs.example.com/things',
      'https://rs.example.com/th ings',
      'https://rs.example.com\\things',
    ]) {
      expect(refusal(proof({ claims: { htu } })).message, htu).toMatch(/"htu"/)
    }
  })

  it('iat more than the window away, in the past or the future', () => {
    expect(refusal(proof({ claims: { iat: NOW - 61 } })).message).toMatch(/too old/)
    expect(refusal(proof({ claims: { iat: NOW + 61 } })).message).toMatch(/future/)
    expect(refusal(proof({ claims: { iat: NOW - 11 } }), { iatWindowSec: 10 }).message).toMatch(/too old/)
  })

  it('exp in the past or nbf in the future, when a client added them', () => {
    expect(refusal(proof({ claims: { exp: NOW } })).message).toMatch(/expired/)
    expect(refusal(proof({ claims: { nbf: NOW + 1 } })).message).toMatch(/not valid yet/)
    expect(refusal(proof({ claims: { exp: 'later' } })).message).toMatch(/"exp" is not a number/)
  })

  it('no ath, or the ath of another token, when an access token is given', () => {
    expect(refusal(proof(), { accessToken: TOKEN }).message).toMatch(/no "ath"/)
    const other = proof({ claims: { ath: accessTokenHash('another-token') } })
    expect(refusal(other, { accessToken: TOKEN }).message).toMatch(/"ath" is not the hash/)
    // A token endpoint gives no access token: ath is not read there.
    expect(() => verifyDpopProof(other, expectations)).not.toThrow()
  })
})

describe('verifyDpopProof and server nonces (§8, §9, §4.3 rule 10)', () => {
  const policy = (nonce: string | undefined) => nonce === 'n-now'

  it('asks for a nonce with UseDpopNonceError when the proof has none, or a stale one', () => {
    for (const nonce of [undefined, 'n-old']) {
      let caught: unknown
      try {
        verifyDpopProof(proof({ claims: { nonce } }), { ...expectations, nonce: policy })
      } catch (err) {
        caught = err
      }
      expect(caught).toBeInstanceOf(UseDpopNonceError)
      expect((caught as UseDpopNonceError).error).toBe('use_dpop_nonce')
    }
  })

  it('accepts the nonce the policy accepts; refuses a nonce that is not a string', () => {
    expect(
      verifyDpopProof(proof({ claims: { nonce: 'n-now' } }), { ...expectations, nonce: policy }).nonce,
    ).toBe('n-now')
    expect(refusal(proof({ claims: { nonce: 7 } }), { nonce: policy }).message).toMatch(
      /"nonce" is not a string/,
    )
  })

  it('asks for a nonce only once the rest of the proof is valid', () => {
    const forged = proof({ signKey: proofKey('ES256').privateKey })
    expect(refusal(forged, { nonce: policy }).message).toMatch(/signature/)
  })
})

describe('verifyDpopProof expectations', () => {
  it('throws TypeError for a malformed expectation, a programming error rather than a bad proof', () => {
    for (const bad of [
      { ...expectations, method: '' },
      { ...expectations, url: '/things' },
      { ...expectations, nowSec: Number.NaN },
      { ...expectations, iatWindowSec: -1 },
    ]) {
      expect(() => verifyDpopProof(proof(), bad)).toThrow(TypeError)
    }
  })

  it('signs-and-checks with node:crypto synchronously', () => {
    const value = signCompact(
      { typ: 'dpop+jwt', alg: 'ES256', jwk: es256.publicJwk },
      { jti: 'a', htm: METHOD, htu: URL_, iat: NOW },
      'ES256',
      es256.privateKey,
    )
    expect(verifyDpopProof(value, expectations)).not.toBeInstanceOf(Promise)
  })
})
