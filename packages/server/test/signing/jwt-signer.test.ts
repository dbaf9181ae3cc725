/**
 * Differential tests of the node:crypto JWS module against jose: jose must accept every token
 * `signJwt` issues, and `verifyOwnJwt` must give jose's verdict on every token, valid or mutated.
 */
import fc from 'fast-check'
import {
  CompactSign,
  createLocalJWKSet,
  errors,
  importJWK,
  type JWK,
  type JWTVerifyGetKey,
  jwtVerify,
  SignJWT,
} from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { signJwt, verifyOwnJwt } from '../../src/signing/jwt-signer.js'
import type { SigningAlg, SigningKey } from '../../src/signing/signing-key.js'
import { SigningKeySet } from '../../src/signing/signing-key-set.js'

const ALGS: SigningAlg[] = ['ES256', 'RS256', 'PS256', 'EdDSA']
const NOW_SEC = Math.floor(Date.now() / 1000)
/** jose's clock for claim checks: inside every generated token's lifetime. */
const CURRENT_DATE = new Date(NOW_SEC * 1000)

const encoder = new TextEncoder()
const b64u = (value: string | Uint8Array) => Buffer.from(value).toString('base64url')
const encodeJson = (value: unknown) => b64u(JSON.stringify(value))

/** Claims of an RFC 9068 access token, plus arbitrary extra members. */
const claimsArb = fc
  .record({
    iss: fc.webUrl(),
    sub: fc.string({ maxLength: 40 }),
    aud: fc.oneof(fc.webUrl(), fc.array(fc.webUrl(), { minLength: 1, maxLength: 3 })),
    exp: fc.integer({ min: NOW_SEC + 1, max: NOW_SEC + 86_400 }),
    iat: fc.integer({ min: NOW_SEC - 3600, max: NOW_SEC }),
    jti: fc.uuid(),
    client_id: fc.string({ maxLength: 40 }),
    scope: fc
      .array(fc.stringMatching(/^[\x21\x23-\x5b\x5d-\x7e]{1,12}$/), { maxLength: 4 })
      .map((s) => s.join(' ')),
    extra: fc.dictionary(
      fc.string({ maxLength: 12 }).filter((k) => !['exp', 'nbf', 'iat'].includes(k)),
      fc.jsonValue({ maxDepth: 2 }),
      { maxKeys: 4 },
    ),
  })
  .map(({ extra, ...claims }) => ({ ...extra, ...claims }) as Record<string, unknown>)

/** A key set publishing one key per algorithm, and each key's private JWK for jose. */
let keys: SigningKeySet
let byAlg: Map<SigningAlg, { key: SigningKey; privateJwk: JWK }>

beforeAll(async () => {
  // A long margin keeps the replaced, never-used keys published for the whole test run.
  keys = await SigningKeySet.create({ alg: 'ES256', retentionMarginMs: 3_600_000 })
  const all = [keys.current]
  for (const alg of ALGS.slice(1)) all.push(await keys.rotate(alg))
  byAlg = new Map(
    all.map(
      (key) => [key.alg, { key, privateJwk: key.privateKey.export({ format: 'jwk' }) as JWK }] as const,
    ),
  )
}, 120_000)

function keyFor(alg: SigningAlg): { key: SigningKey; privateJwk: JWK } {
  const entry = byAlg.get(alg)
  if (entry === undefined) throw new Error(`no ${alg} key`)
  return entry
}

/**
 * jose's verdict, with jose's own key selection from the published JWKS. Claim checks other than
 * `typ` are the caller's job in `verifyOwnJwt`, so a token jose rejects only for such a claim
 * (expired, `iat` in the future…) still counts as one whose signature jose accepts.
 */
async function joseVerdict(
  token: string,
  getKey: JWTVerifyGetKey,
): Promise<Record<string, unknown> | undefined> {
  try {
    const { payload } = await jwtVerify(token, getKey, { typ: 'at+jwt', currentDate: CURRENT_DATE })
    return payload as Record<string, unknown>
  } catch (error) {
    if (error instanceof errors.JWTExpired) return error.payload as Record<string, unknown>
    if (error instanceof errors.JWTClaimValidationFailed && error.claim !== 'typ') {
      return error.payload as Record<string, unknown>
    }
    return undefined
  }
}

/**
 * The one deliberate difference from jose: jose decodes the signature with the forgiving base64
 * of `atob`, which skips whitespace and `=` padding, so `token + '=='` or a space inside the
 * signature still verifies there. `verifyOwnJwt` accepts only the base64url alphabet (RFC 7515
 * §7.1), so such spellings are expected to be refused whatever jose says.
 */
function isCompactBase64url(token: string): boolean {
  return /^[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/.test(token)
}

describe('signJwt', () => {
  for (const alg of ALGS) {
    it(`issues ${alg} tokens that jose verifies, with header {alg, typ: at+jwt, kid} and the exact claims`, async () => {
      const { key } = keyFor(alg)
      const publicKey = await importJWK(key.publicJwk, alg)
      const jwks = createLocalJWKSet(keys.publicJwks())
      await fc.assert(
        fc.asyncProperty(claimsArb, async (claims) => {
          const token = signJwt(key, claims)
          const expected = JSON.parse(JSON.stringify(claims))
          const direct = await jwtVerify(token, publicKey, {
            typ: 'at+jwt',
            algorithms: [alg],
            currentDate: CURRENT_DATE,
          })
          expect(direct.protectedHeader).toEqual({ alg, typ: 'at+jwt', kid: key.kid })
          expect(direct.payload).toEqual(expected)
          const viaJwks = await jwtVerify(token, jwks, { typ: 'at+jwt', currentDate: CURRENT_DATE })
          expect(viaJwks.payload).toEqual(expected)
          expect(verifyOwnJwt(token, keys)).toEqual(expected)
        }),
        { numRuns: alg === 'ES256' || alg === 'EdDSA' ? 60 : 25 },
      )
    })
  }

  it('sets the typ header it is given', async () => {
    const { key } = keyFor('ES256')
    const token = signJwt(key, { sub: 'a' }, 'JWT')
    const { protectedHeader } = await jwtVerify(token, await importJWK(key.publicJwk, 'ES256'))
    expect(protectedHeader).toEqual({ alg: 'ES256', typ: 'JWT', kid: key.kid })
  })
})

/** Tokens of every kind for the mutation property to start from, each with a known verdict. */
async function baseTokens(): Promise<string[]> {
  const tokens: string[] = []
  const claims = {
    iss: 'https://as.example',
    sub: 'svc',
    aud: 'https://api.example',
    exp: NOW_SEC + 300,
    iat: NOW_SEC,
    jti: 'j1',
    client_id: 'svc',
    scope: 'read',
  }
  const es = keyFor('ES256')
  for (const alg of ALGS) {
    const { key, privateJwk } = keyFor(alg)
    const privateKey = await importJWK(privateJwk, alg)
    tokens.push(signJwt(key, claims))
    // jose-signed, accepted by both
    tokens.push(
      await new SignJWT(claims).setProtectedHeader({ alg, typ: 'at+jwt', kid: key.kid }).sign(privateKey),
    )
    tokens.push(
      await new SignJWT(claims)
        .setProtectedHeader({ alg, typ: 'application/at+jwt', kid: key.kid })
        .sign(privateKey),
    )
    tokens.push(
      await new SignJWT(claims).setProtectedHeader({ alg, typ: 'AT+JWT', kid: key.kid }).sign(privateKey),
    )
    // jose-signed, refused by both: typ, kid, payload shape, crit
    tokens.push(signJwt(key, claims, 'JWT'))
    tokens.push(await new SignJWT(claims).setProtectedHeader({ alg, kid: key.kid }).sign(privateKey))
    tokens.push(
      await new SignJWT(claims).setProtectedHeader({ alg, typ: 'at+jwt', kid: 'unknown' }).sign(privateKey),
    )
    tokens.push(
      await new CompactSign(encoder.encode('[1,2]'))
        .setProtectedHeader({ alg, typ: 'at+jwt', kid: key.kid })
        .sign(privateKey),
    )
    tokens.push(
      await new CompactSign(encoder.encode('not json'))
        .setProtectedHeader({ alg, typ: 'at+jwt', kid: key.kid })
        .sign(privateKey),
    )
    tokens.push(
      await new CompactSign(encoder.encode(JSON.stringify(claims)))
        .setProtectedHeader({ alg, typ: 'at+jwt', kid: key.kid, crit: ['exp'], exp: 1 })
        .sign(privateKey, { crit: { exp: true } }),
    )
    // the right kid, signed by another key of the same algorithm
    const stranger = await SigningKeySet.create({ alg })
    tokens.push(
      signJwt(
        {
          ...stranger.current,
          kid: key.kid,
        },
        claims,
      ),
    )
    // alg none and HMAC keyed with the public key
    tokens.push(`${encodeJson({ alg: 'none', typ: 'at+jwt', kid: key.kid })}.${encodeJson(claims)}.`)
    tokens.push(
      await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })
        .sign(encoder.encode(JSON.stringify(key.publicJwk))),
    )
    tokens.push(
      await new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt', kid: key.kid })
        .sign(encoder.encode(key.publicKey.export({ format: 'pem', type: 'spki' }).toString())),
    )
  }
  // an ES256 key's kid with an EdDSA header
  tokens.push(
    await new SignJWT(claims)
      .setProtectedHeader({ alg: 'EdDSA', typ: 'at+jwt', kid: es.key.kid })
      .sign(await importJWK(keyFor('EdDSA').privateJwk, 'EdDSA')),
  )
  return tokens
}

/** One change to a token: what an attacker or a broken transport could do to it. */
const mutationArb = fc.oneof(
  fc.record({
    kind: fc.constant('replace-char' as const),
    at: fc.nat(),
    char: fc.oneof(
      fc.constantFrom('A', 'a', '0', '-', '_', '.', '=', ' ', '+', '/', '\n', 'é'),
      fc.string({ minLength: 1, maxLength: 1 }),
    ),
  }),
  fc.record({ kind: fc.constant('flip-bit' as const), segment: fc.nat(2), at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('swap-segments' as const), a: fc.nat(2), b: fc.nat(2) }),
  fc.record({
    kind: fc.constant('header' as const),
    alg: fc.constantFrom<unknown>(undefined, 'none', 'HS256', 'ES256', 'RS256', 'PS256', 'EdDSA', 'ES384', 1),
    kid: fc.constantFrom<string | undefined>(undefined, 'other', ''),
    typ: fc.constantFrom<unknown>(undefined, 'at+jwt', 'JWT', 'application/at+jwt', null),
    useOtherKid: fc.boolean(),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('append' as const),
    text: fc.constantFrom('.', '=', '==', 'A', '.x', ' ', '..'),
  }),
  fc.record({ kind: fc.constant('drop-signature' as const) }),
  fc.record({ kind: fc.constant('payload-json' as const), json: fc.jsonValue({ maxDepth: 2 }) }),
)

type Mutation = typeof mutationArb extends fc.Arbitrary<infer T> ? T : never

function mutate(token: string, mutation: Mutation): string {
  const segments = token.split('.')
  switch (mutation.kind) {
    case 'replace-char': {
      if (token.length === 0) return mutation.char
      const at = mutation.at % token.length
      return token.slice(0, at) + mutation.char + token.slice(at + 1)
    }
    case 'flip-bit': {
      const index = mutation.segment % segments.length
      const bytes = Buffer.from(segments[index] ?? '', 'base64url')
      if (bytes.length === 0) return token
      const at = mutation.at % bytes.length
      bytes[at] = (bytes[at] ?? 0) ^ (1 << mutation.bit)
      segments[index] = bytes.toString('base64url')
      return segments.join('.')
    }
    case 'swap-segments': {
      const a = segments[mutation.a % segments.length] ?? ''
      segments[mutation.a % segments.length] = segments[mutation.b % segments.length] ?? ''
      segments[mutation.b % segments.length] = a
      return segments.join('.')
    }
    case 'header': {
      let header: Record<string, unknown> = {}
      try {
        const parsed: unknown = JSON.parse(Buffer.from(segments[0] ?? '', 'base64url').toString())
        // Earlier mutations may have put a non-object (null, an array, a number) in the header slot.
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
          header = parsed as Record<string, unknown>
        }
      } catch {
        // not JSON: rebuild the header from nothing
      }
      const otherKid = keys.publicJwks().keys.find((k) => k.kid !== header.kid)?.kid
      const changed = {
        ...header,
        alg: mutation.alg,
        typ: mutation.typ,
        kid: mutation.useOtherKid ? otherKid : (mutation.kid ?? header.kid),
      }
      segments[0] = encodeJson(changed)
      return segments.join('.')
    }
    case 'truncate':
      return token.slice(0, mutation.at % (token.length + 1))
    case 'append':
      return token + mutation.text
    case 'drop-signature':
      return `${segments[0]}.${segments[1]}.`
    case 'payload-json':
      segments[1] = encodeJson(mutation.json)
      return segments.join('.')
  }
}

describe('verifyOwnJwt', () => {
  let tokens: string[]
  let jwks: JWTVerifyGetKey

  beforeAll(async () => {
    tokens = await baseTokens()
    jwks = createLocalJWKSet(keys.publicJwks())
  }, 120_000)

  it('gives jose’s verdict on valid and invalid tokens signed by jose and by signJwt', async () => {
    let accepted = 0
    for (const token of tokens) {
      const expected = await joseVerdict(token, jwks)
      expect(verifyOwnJwt(token, keys)).toEqual(expected)
      if (expected !== undefined) accepted++
    }
    // both verdicts occur: 4 algorithms × (signJwt + 3 jose typ spellings) are valid
    expect(accepted).toBe(16)
    expect(tokens.length).toBeGreaterThan(accepted)
  })

  it('gives jose’s verdict on every mutated token', async () => {
    const verdicts = { accepted: 0, refused: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.nat(),
        fc.array(mutationArb, { minLength: 1, maxLength: 3 }),
        async (pick, mutations) => {
          const base = tokens[pick % tokens.length] as string
          const token = mutations.reduce(mutate, base)
          const expected = isCompactBase64url(token) ? await joseVerdict(token, jwks) : undefined
          expect(verifyOwnJwt(token, keys)).toEqual(expected)
          verdicts[expected === undefined ? 'refused' : 'accepted']++
        },
      ),
      {
        numRuns: 1500,
        // Found by CI: a JSON null payload swapped into the header slot, then a header rewrite.
        examples: [
          [
            0,
            [
              { kind: 'payload-json', json: null },
              { kind: 'swap-segments', a: 1, b: 0 },
              { kind: 'header', alg: undefined, kid: undefined, typ: undefined, useOtherKid: false },
            ],
          ],
        ],
      },
    )
    // no-op mutations (a segment swapped with itself, a character replaced by itself) keep some valid
    expect(verdicts.accepted).toBeGreaterThan(0)
    expect(verdicts.refused).toBeGreaterThan(verdicts.accepted)
  })

  it('refuses alg none, HS256 keyed with the public key, unknown kids, and a wrong typ', () => {
    const refused = tokens.filter((token) => {
      const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString())
      return (
        header.alg === 'none' || header.alg === 'HS256' || header.kid === 'unknown' || header.typ === 'JWT'
      )
    })
    expect(refused.length).toBe(4 * 5)
    for (const token of refused) expect(verifyOwnJwt(token, keys)).toBeUndefined()
  })

  it('refuses a signature with base64 padding or whitespace, which jose’s lenient decoder would accept', () => {
    const token = signJwt(keyFor('ES256').key, { sub: 'a' })
    expect(verifyOwnJwt(token, keys)).toEqual({ sub: 'a' })
    expect(verifyOwnJwt(`${token}==`, keys)).toBeUndefined()
    expect(verifyOwnJwt(`${token.slice(0, -2)} ${token.slice(-2)}`, keys)).toBeUndefined()
  })

  it('refuses tokens over 8 KiB without parsing them', () => {
    const key = keyFor('EdDSA').key
    const small = signJwt(key, { pad: 'x'.repeat(5000) })
    expect(verifyOwnJwt(small, keys)).toBeDefined()
    const large = signJwt(key, { pad: 'x'.repeat(7000) })
    expect(large.length).toBeGreaterThan(8192)
    expect(verifyOwnJwt(large, keys)).toBeUndefined()
  })

  it('refuses tokens of keys that are no longer published', async () => {
    const own = await SigningKeySet.create({ alg: 'EdDSA', retentionMarginMs: 0 })
    const old = own.current
    const token = signJwt(old, { sub: 'a' })
    expect(verifyOwnJwt(token, own)).toEqual({ sub: 'a' })
    await own.rotate()
    own.publicJwks(Date.now() + 1)
    expect(verifyOwnJwt(token, own)).toBeUndefined()
  })

  it('never throws, whatever it is given', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.anything()), (value) => {
        expect(verifyOwnJwt(value as string, keys)).toBeUndefined()
      }),
      { numRuns: 300 },
    )
  })
})
