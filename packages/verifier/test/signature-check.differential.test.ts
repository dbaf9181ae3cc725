/**
 * Differential test of the node:crypto signature path (src/signature-check.ts) and the checks
 * around it: for generated and mutated tokens, `verify()` must reach the same accept/reject verdict
 * as jose `jwtVerify` configured alike (issuer, audience, typ at+jwt, the same algorithms, the same
 * clock tolerance, a key from the same JWK Set).
 *
 * The verifier is deliberately stricter than jose in a few documented ways; the oracle applies
 * exactly those rules on top of jose's verdict (see `stricterRules`), and each has its own
 * attack test. Everything cryptographic — decoding, key fitness, the signature — is jose's alone.
 */
import { createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto'
import { createVerifier, InvalidTokenError, SUPPORTED_ALGORITHMS, type Verifier } from '@oauth-m2m/verifier'
import fc from 'fast-check'
import {
  type CryptoKey,
  createLocalJWKSet,
  decodeJwt,
  decodeProtectedHeader,
  errors,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTVerifyGetKey,
  jwtVerify,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, ISSUER } from './support/keys.js'
import { encodeJson, rawSignature } from './support/raw-jws.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const TOLERANCE_SEC = 5

interface Signer {
  name: string
  /** The kid it puts in its tokens. */
  kid: string
  /** Algorithms its private key can produce. */
  algs: string[]
  privateKey: CryptoKey | KeyObject
  publicJwk: JWK
}

let as: TestIssuer
let signers: Signer[]
let verifier: Verifier
let joseKeys: JWTVerifyGetKey

async function joseSigner(
  name: string,
  kid: string,
  alg: string,
  algs: string[],
  jwkExtra: Partial<JWK> = {},
) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  return { name, kid, algs, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, ...jwkExtra } }
}

beforeAll(async () => {
  const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 })
  signers = [
    await joseSigner('es256 (alg pinned)', 'es256', 'ES256', ['ES256'], { alg: 'ES256', use: 'sig' }),
    await joseSigner('es384', 'es384', 'ES384', ['ES384']),
    await joseSigner('rsa', 'rsa', 'RS256', RSA_ALGS),
    await joseSigner('ed25519', 'ed', 'EdDSA', ['EdDSA', 'Ed25519']),
    await joseSigner('verify-forbidden', 'ops', 'ES256', ['ES256'], { key_ops: ['sign'] }),
    {
      name: 'rsa-1024',
      kid: 'rsa-small',
      algs: RSA_ALGS,
      privateKey: small.privateKey,
      publicJwk: { ...(small.publicKey.export({ format: 'jwk' }) as JWK), kid: 'rsa-small' },
    },
  ]
  const published = signers.map((s) => s.publicJwk)
  // Not published: an impostor reusing a real kid, and a key nobody knows.
  signers.push(await joseSigner('impostor', 'es256', 'ES256', ['ES256']))
  signers.push(await joseSigner('stranger', 'ghost', 'ES256', ['ES256']))

  as = await startTestIssuer(published)
  verifier = createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: as.jwksUri,
    algorithms: [...SUPPORTED_ALGORITHMS],
    clockToleranceSec: TOLERANCE_SEC,
    tokenCache: false,
  })
  // Same key set for jose. A kid-less token must match exactly one key, as in the core JWKS cache,
  // so jose's "several keys match, try each" becomes "no key".
  const local = createLocalJWKSet({ keys: published })
  joseKeys = async (header, token) => {
    try {
      return await local(header, token)
    } catch (err) {
      if (err instanceof errors.JWKSMultipleMatchingKeys) throw new errors.JWKSNoMatchingKey()
      throw err
    }
  }
})
afterAll(() => as.close())

/** jose's verdict. */
async function joseAccepts(token: string): Promise<boolean> {
  try {
    await jwtVerify(token, joseKeys, {
      issuer: ISSUER,
      audience: AUDIENCE,
      typ: 'at+jwt',
      algorithms: [...SUPPORTED_ALGORITHMS],
      clockTolerance: TOLERANCE_SEC,
      requiredClaims: ['exp', 'client_id'],
    })
    return true
  } catch {
    return false
  }
}

const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/

/**
 * Where the verifier is stricter than jose, on purpose (each is documented in the source):
 * RFC 6750 token syntax, `b64: false` anywhere, nested JWTs, `client_id` a non-empty string,
 * `scope` a string, `iat` not in the future.
 */
function stricterRules(token: string): boolean {
  if (!B64TOKEN.test(token)) return false
  const header = decodeProtectedHeader(token) as Record<string, unknown>
  const claims = decodeJwt(token)
  if (header.b64 === false) return false
  if (typeof header.cty === 'string' && ['jwt', 'application/jwt'].includes(header.cty.toLowerCase()))
    return false
  if (typeof claims.client_id !== 'string' || claims.client_id === '') return false
  if (claims.scope !== undefined && typeof claims.scope !== 'string') return false
  const now = Math.floor(Date.now() / 1000)
  if (typeof claims.iat === 'number' && claims.iat > now + TOLERANCE_SEC) return false
  return true
}

async function oracleAccepts(token: string): Promise<boolean> {
  return (await joseAccepts(token)) && stricterRules(token)
}

async function verifierAccepts(token: string): Promise<boolean> {
  try {
    await verifier.verify(token)
    return true
  } catch (err) {
    // Anything but invalid_token (a 503 for a token, a crash) is a defect in itself.
    if (!(err instanceof InvalidTokenError)) throw err
    return false
  }
}

// ---- generators ----------------------------------------------------------------------------

const now = () => Math.floor(Date.now() / 1000)
/** A time well clear of now ± tolerance, so that no run sits on a boundary. */
const past = fc.integer({ min: 60, max: 100_000 }).map((d) => now() - d)
const future = fc.integer({ min: 60, max: 100_000 }).map((d) => now() + d)
const usually = <T>(common: fc.Arbitrary<T>, ...rare: fc.Arbitrary<T>[]) =>
  fc.oneof({ weight: 8, arbitrary: common }, ...rare.map((arbitrary) => ({ weight: 1, arbitrary })))
const absent = fc.constant(undefined)

const claimsArb = fc.record({
  iss: usually(fc.constant(ISSUER), fc.constant('https://evil.example'), fc.constant(`${ISSUER}/`), absent),
  aud: usually(
    fc.constant<unknown>(AUDIENCE),
    fc.constant([AUDIENCE, 'https://other.example']),
    fc.constant(['https://other.example']),
    fc.constant([1, AUDIENCE]),
    absent,
  ),
  exp: usually<unknown>(future, past, absent, fc.constant('9999999999')),
  nbf: usually<unknown>(absent, past, future, fc.constant(true)),
  iat: usually<unknown>(past, absent, future, fc.constant('0')),
  client_id: usually<unknown>(fc.constant('service-a'), absent, fc.constant(''), fc.constant(7)),
  scope: usually<unknown>(fc.constant('read:things write:things'), absent, fc.constant(['read:things'])),
  sub: fc.constant<string>('service-a'),
})

const headerExtrasArb = usually<Record<string, unknown>>(
  fc.constant({}),
  fc.constantFrom(
    { crit: ['b64'], b64: true },
    { crit: ['b64'], b64: false },
    { crit: ['b64'] },
    { crit: ['exp'], exp: 1 },
    { crit: [] },
    { crit: 'b64' },
    { b64: false },
    { b64: true },
    { cty: 'JWT' },
    { cty: 'at+jwt' },
    { jku: 'http://127.0.0.1:9/jwks' },
    { x5u: 'http://127.0.0.1:9/cert' },
    { jwk: { kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' } },
  ),
)

const tokenSpecArb = fc.record({
  signer: fc.nat(),
  alg: usually<string | null>(
    fc.constant(null), // the signer's own algorithm
    fc.constantFrom('RS256', 'RS512', 'PS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'),
    fc.constantFrom('HS256', 'HS512', 'none'),
  ),
  hmacKeyForm: fc.constantFrom('pem', 'jwk'),
  typ: usually<unknown>(
    fc.constant('at+jwt'),
    fc.constantFrom('application/at+jwt', 'AT+JWT', 'JWT', 'jwt', 'dpop+jwt', 'application/jwt'),
    fc.constantFrom(undefined, 7),
  ),
  kid: usually(fc.constant('own'), fc.constantFrom('absent', 'other', 'unknown', 'number', 'path')),
  extras: headerExtrasArb,
  claims: claimsArb,
})

type TokenSpec = typeof tokenSpecArb extends fc.Arbitrary<infer T> ? T : never

/** Tokens that should verify, so that acceptance is exercised as much as rejection. */
const validSpecArb: fc.Arbitrary<TokenSpec> = fc.record({
  signer: fc.constantFrom(0, 1, 2, 3), // the published keys jose and the verifier can use
  alg: fc.constantFrom(null, 'PS256', 'PS512', 'RS384', 'Ed25519'),
  hmacKeyForm: fc.constantFrom('pem' as const),
  typ: fc.constantFrom<unknown>('at+jwt', 'application/at+jwt', 'AT+JWT'),
  kid: fc.constantFrom('own' as const),
  extras: fc.constantFrom<Record<string, unknown>>(
    {},
    { crit: ['b64'], b64: true },
    { jku: 'http://127.0.0.1:9/' },
  ),
  claims: fc.record({
    iss: fc.constant(ISSUER),
    aud: fc.constantFrom<unknown>(AUDIENCE, [AUDIENCE, 'https://other.example']),
    exp: future,
    nbf: fc.oneof(absent, past),
    iat: fc.oneof(absent, past),
    client_id: fc.constant<unknown>('service-a'),
    scope: fc.constantFrom<unknown>('read:things', undefined),
    sub: fc.constant<string>('service-a'),
  }),
})

const FLIP_CHARS = [
  ...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_',
  '=',
  '+',
  '/',
  ' ',
  '.',
  'é',
]
const mutationArb = usually<{ kind: string; segment?: number; position?: number; char?: string }>(
  fc.constant({ kind: 'none' }),
  fc.record({
    kind: fc.constant('flip'),
    segment: fc.integer({ min: 0, max: 2 }),
    position: fc.nat(),
    char: fc.constantFrom(...FLIP_CHARS),
  }),
  fc.record({ kind: fc.constant('truncate'), position: fc.nat() }),
  fc.record({ kind: fc.constant('append'), char: fc.constantFrom(...FLIP_CHARS) }),
  fc.constantFrom({ kind: 'swap' }, { kind: 'drop-signature' }, { kind: 'strip-signature' }),
)

function mint(spec: TokenSpec): string {
  const signer = signers[spec.signer % signers.length]!
  const headerAlg = spec.alg ?? signer.algs[0]!
  const kid = {
    own: signer.kid,
    absent: undefined,
    other: signers[(spec.signer + 1) % signers.length]!.kid,
    unknown: 'no-such-kid',
    number: 42,
    path: '../../jwks',
  }[spec.kid]
  const header: Record<string, unknown> = { alg: headerAlg, typ: spec.typ, kid, ...spec.extras }
  const claims = spec.claims
  const b64 = header.b64 !== false || !Array.isArray(header.crit) || !header.crit.includes('b64')
  const input = `${encodeJson(header)}.${b64 ? encodeJson(claims) : JSON.stringify(claims)}`
  let signature: string
  if (headerAlg.startsWith('HS')) {
    const publicKey = createPublicKey({ key: signer.publicJwk as JsonWebKey, format: 'jwk' })
    const secret =
      spec.hmacKeyForm === 'pem'
        ? publicKey.export({ type: 'spki', format: 'pem' }).toString()
        : JSON.stringify(signer.publicJwk)
    signature = rawSignature(headerAlg, secret, input)
  } else if (headerAlg === 'none') {
    signature = ''
  } else {
    // Sign with the header's algorithm when the key can, else with the key's own (a mismatch).
    signature = rawSignature(
      signer.algs.includes(headerAlg) ? headerAlg : signer.algs[0]!,
      signer.privateKey,
      input,
    )
  }
  return `${input}.${signature}`
}

function mutate(
  token: string,
  m: { kind: string; segment?: number; position?: number; char?: string },
): string {
  const parts = token.split('.')
  switch (m.kind) {
    case 'flip': {
      const segment = parts[m.segment!] ?? ''
      if (segment.length === 0) return token
      const at = m.position! % segment.length
      parts[m.segment!] = segment.slice(0, at) + m.char! + segment.slice(at + 1)
      return parts.join('.')
    }
    case 'truncate':
      return token.slice(0, m.position! % token.length)
    case 'append':
      return token + m.char!
    case 'swap':
      return [parts[1], parts[0], parts[2]].join('.')
    case 'drop-signature':
      return `${parts[0]}.${parts[1]}`
    case 'strip-signature':
      return `${parts[0]}.${parts[1]}.`
    default:
      return token
  }
}

/** Decoding a mutated token for the oracle's stricter rules may itself fail: that is a rejection. */
async function oracleVerdict(token: string): Promise<boolean> {
  try {
    return await oracleAccepts(token)
  } catch {
    return false
  }
}

describe('the signature check agrees with jose', () => {
  it('on every generated and mutated token', async () => {
    let accepted = 0
    let rejected = 0
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(tokenSpecArb, validSpecArb),
        fc.oneof(fc.constant({ kind: 'none' }), mutationArb),
        async (spec, mutation) => {
          const token = mutate(mint(spec), mutation)
          const expected = await oracleVerdict(token)
          const actual = await verifierAccepts(token)
          if (actual) accepted++
          else rejected++
          expect(actual, `verdict for ${JSON.stringify({ spec, mutation })}`).toBe(expected)
        },
      ),
      { numRuns: 600 },
    )
    // The property is only meaningful if both verdicts occur often.
    expect(accepted).toBeGreaterThan(60)
    expect(rejected).toBeGreaterThan(60)
  })

  it('on every single-character change of a valid token of each algorithm', async () => {
    const algs: [number, string][] = [
      [0, 'ES256'],
      [1, 'ES384'],
      [2, 'RS256'],
      [2, 'PS256'],
      [3, 'EdDSA'],
      [3, 'Ed25519'],
    ]
    for (const [signer, alg] of algs) {
      const token = mint({
        signer,
        alg,
        hmacKeyForm: 'pem',
        typ: 'at+jwt',
        kid: 'own',
        extras: {},
        claims: {
          iss: ISSUER,
          aud: AUDIENCE,
          exp: now() + 600,
          iat: now(),
          nbf: undefined,
          client_id: 'c',
          scope: 'a',
          sub: 's',
        },
      })
      expect(await verifierAccepts(token)).toBe(true)
      // The signature segment and the end of the payload: where a change may still verify.
      const sigStart = token.lastIndexOf('.') + 1
      for (const position of [sigStart, sigStart + 1, token.length - 2, token.length - 1, sigStart - 2]) {
        for (const char of ['A', 'B', 'Q', 'g', 'w', '_', '-', '=']) {
          const changed = token.slice(0, position) + char + token.slice(position + 1)
          expect(await verifierAccepts(changed), `${alg} at ${position} -> ${char}`).toBe(
            await oracleVerdict(changed),
          )
        }
      }
    }
  })
})
