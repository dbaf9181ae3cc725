/**
 * Differential test of core's node:crypto DPoP proof check (src/dpop/verify-dpop-proof.ts): for
 * generated and mutated proofs of every algorithm, `verifyDpopProof` must reach the same verdict
 * (accepted with the same thumbprint, refused as invalid_dpop_proof, or refused as
 * use_dpop_nonce) as the jose-based reference (test/support/jose-dpop-proof-check.ts), where
 * jose's `jwtVerify` with `EmbeddedJWK` judges everything JOSE: decoding, header, key fitness,
 * signature, `exp`/`nbf`.
 */
import { randomUUID } from 'node:crypto'
import { InvalidDpopProofError, UseDpopNonceError } from '@oauth-m2m/core'
import { accessTokenHash, type DpopProofExpectations, verifyDpopProof } from '@oauth-m2m/core/internal'
import fc from 'fast-check'
import { beforeAll, describe, expect, it } from 'vitest'
import { type ProofKey, proofKey, signCompact } from '../support/dpop-proofs.js'
import { joseVerifyDpopProof, ReferenceRefusal } from '../support/jose-dpop-proof-check.js'

const URL_ = 'https://rs.example.com/things'
const TOKEN = 'access-token-1'
const RSA_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512']
const ALL_ALGS = ['ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', ...RSA_ALGS]

interface Signer {
  key: ProofKey
  /** Algorithms its key can sign with. */
  algs: string[]
}

let signers: Signer[]
beforeAll(() => {
  signers = [
    { key: proofKey('ES256'), algs: ['ES256'] },
    { key: proofKey('ES384'), algs: ['ES384'] },
    { key: proofKey('ES512'), algs: ['ES512'] },
    { key: proofKey('EdDSA'), algs: ['EdDSA', 'Ed25519'] },
    { key: proofKey('RS256'), algs: RSA_ALGS },
    // PS512 does not fit a 1024-bit modulus (RFC 8017 §9.1.1: 64 + 64 + 2 octets > 128).
    { key: { ...proofKey('RS256', 1024), alg: 'RS256' }, algs: RSA_ALGS.filter((alg) => alg !== 'PS512') },
  ]
})

type Verdict = { kind: 'ok'; jkt: string } | { kind: 'invalid' } | { kind: 'nonce' }

function ours(proof: string, expect_: DpopProofExpectations): Verdict {
  try {
    return { kind: 'ok', jkt: verifyDpopProof(proof, expect_).jkt }
  } catch (err) {
    if (err instanceof UseDpopNonceError) return { kind: 'nonce' }
    // Anything but the two typed refusals (a TypeError, a crash) is a defect in itself.
    if (err instanceof InvalidDpopProofError) return { kind: 'invalid' }
    throw err
  }
}

async function reference(proof: string, expect_: DpopProofExpectations): Promise<Verdict> {
  try {
    return { kind: 'ok', jkt: await joseVerifyDpopProof(proof, expect_) }
  } catch (err) {
    if (err instanceof ReferenceRefusal) return { kind: err.kind }
    throw err
  }
}

// ---- generators ----------------------------------------------------------------------------

const NOW = Math.floor(Date.now() / 1000)
const usually = <T>(common: fc.Arbitrary<T>, ...rare: fc.Arbitrary<T>[]) =>
  fc.oneof({ weight: 6, arbitrary: common }, ...rare.map((arbitrary) => ({ weight: 1, arbitrary })))
const absent = fc.constant(undefined)

const JWK_VARIANTS = [
  'other-signer',
  'with-d',
  'with-p',
  'use-sig',
  'use-enc',
  'alg-own',
  'alg-other',
  'key_ops-verify',
  'key_ops-sign',
  'key_ops-empty',
  'key_ops-dup',
  'ext-false',
  'ext-string',
  'missing',
  'array',
  'x-padded',
  'x-number',
  'kty-oct',
  'crv-swap',
  'kid-number',
] as const

const claimsArb = fc.record({
  jti: usually<unknown>(fc.uuid(), absent, fc.constant(''), fc.constant(7), fc.constant('j'.repeat(300))),
  htm: usually<unknown>(fc.constant('GET'), fc.constantFrom('POST', 'get', 1), absent),
  htu: usually<unknown>(
    fc.constant(URL_),
    fc.constantFrom(
      `${URL_}?q=1#f`,
      'HTTPS://RS.example.com:443/things',
      'https://rs.example.com/other',
      'http://rs.example.com/things',
      'not a url',
      5,
    ),
    absent,
  ),
  iat: usually<unknown>(
    fc.integer({ min: NOW - 50, max: NOW + 50 }),
    fc.integer({ min: NOW - 1000, max: NOW - 61 }),
    fc.integer({ min: NOW + 61, max: NOW + 1000 }),
    fc.constantFrom(undefined, String(NOW)),
  ),
  exp: usually<unknown>(absent, fc.constantFrom(NOW - 10, NOW + 600, 'later')),
  nbf: usually<unknown>(absent, fc.constantFrom(NOW - 10, NOW + 600, true)),
  ath: usually<unknown>(
    fc.constant(accessTokenHash(TOKEN)),
    fc.constantFrom(accessTokenHash('other'), 5),
    absent,
  ),
  nonce: usually<unknown>(absent, fc.constantFrom('n-now', 'n-old', 7)),
})

const specArb = fc.record({
  signer: fc.nat(),
  alg: usually<string | null>(
    fc.constant(null),
    fc.constantFrom(...ALL_ALGS),
    fc.constantFrom('HS256', 'none', 'ES256K'),
  ),
  typ: usually<unknown>(
    fc.constant('dpop+jwt'),
    fc.constantFrom('application/dpop+jwt', 'DPoP+JWT', 'JWT', 'at+jwt', 'application/jwt', undefined, 7),
  ),
  jwk: usually<string>(fc.constant('own'), fc.constantFrom(...JWK_VARIANTS)),
  extras: usually<Record<string, unknown>>(
    fc.constant({}),
    fc.constantFrom(
      { crit: ['b64'], b64: true },
      { crit: ['b64'] },
      { crit: ['exp'], exp: 1 },
      { crit: [] },
      { crit: 'b64' },
      { b64: false },
      { kid: 'k', x5u: 'http://127.0.0.1:9/' },
    ),
  ),
  claims: claimsArb,
  noncePolicy: fc.boolean(),
  accessToken: usually(fc.constant(true), fc.constant(false)),
})

/** Proofs that should pass, so that acceptance is exercised as much as refusal. */
const validSpecArb = fc.record({
  signer: fc.constantFrom(0, 1, 2, 3, 4),
  alg: fc.constantFrom<string | null>(null, 'PS256', 'PS512', 'RS384', 'Ed25519'),
  typ: fc.constantFrom<unknown>('dpop+jwt', 'application/dpop+jwt'),
  jwk: fc.constantFrom('own', 'use-sig', 'key_ops-verify', 'kid-number', 'ext-false'),
  extras: fc.constantFrom<Record<string, unknown>>({}, { crit: ['b64'], b64: true }),
  claims: fc.record({
    jti: fc.uuid().map((u) => u as unknown),
    htm: fc.constant<unknown>('GET'),
    htu: fc.constantFrom<unknown>(URL_, `${URL_}?page=3`),
    iat: fc.integer({ min: NOW - 50, max: NOW + 50 }).map((n) => n as unknown),
    exp: fc.constantFrom<unknown>(undefined, NOW + 600),
    nbf: fc.constantFrom<unknown>(undefined, NOW - 10),
    ath: fc.constant<unknown>(accessTokenHash(TOKEN)),
    nonce: fc.constantFrom<unknown>(undefined, 'n-now'),
  }),
  noncePolicy: fc.boolean(),
  accessToken: fc.boolean(),
})

type Spec = typeof specArb extends fc.Arbitrary<infer T> ? T : never

/**
 * Exactly one fault on an otherwise valid proof, each fault as likely as the others: a random
 * mix rarely breaks one rule alone, and only a lone broken rule shows whether both sides see it.
 */
const FAULTS: { [K in keyof Spec]?: K extends 'claims' ? Partial<Spec['claims']> : Spec[K] }[] = [
  ...JWK_VARIANTS.map((jwk) => ({ jwk })),
  ...['JWT', 'at+jwt', 'application/jwt', 'dpop', undefined, 7].map((typ) => ({ typ })),
  ...['HS256', 'none', 'ES256K', 'ES384', 'PS256', 'RS512', 'EdDSA'].map((alg) => ({ alg })),
  { extras: { crit: ['b64'] } },
  { extras: { crit: ['exp'], exp: 1 } },
  { extras: { crit: [] } },
  { extras: { crit: 'b64' } },
  { extras: { b64: false } },
  { extras: { crit: ['b64'], b64: false } },
  ...[undefined, '', 7, 'j'.repeat(300)].map((jti) => ({ claims: { jti } })),
  ...[undefined, 'POST', 'get', 1].map((htm) => ({ claims: { htm } })),
  ...[undefined, 'https://rs.example.com/other', 'http://rs.example.com/things', 'not a url', 5].map(
    (htu) => ({
      claims: { htu },
    }),
  ),
  ...[undefined, NOW - 61, NOW + 61, String(NOW)].map((iat) => ({ claims: { iat } })),
  ...[NOW - 10, NOW, 'later'].map((exp) => ({ claims: { exp } })),
  ...[NOW + 600, true].map((nbf) => ({ claims: { nbf } })),
  ...[undefined, accessTokenHash('other'), 5].map((ath) => ({ claims: { ath }, accessToken: true })),
  ...[undefined, 'n-old', 7].map((nonce) => ({ claims: { nonce }, noncePolicy: true })),
]

const oneFaultArb: fc.Arbitrary<Spec> = fc
  .tuple(validSpecArb, fc.constantFrom(...FAULTS))
  .map(([base, fault]) => ({ ...base, ...fault, claims: { ...base.claims, ...fault.claims } }) as Spec)

function jwkFor(spec: Spec, signer: Signer, headerAlg: string): unknown {
  const own = signer.key.publicJwk
  const other = signers[(spec.signer + 1) % signers.length]!.key.publicJwk
  const x = String(own.x ?? own.n)
  switch (spec.jwk) {
    case 'own':
      return own
    case 'other-signer':
      return other
    case 'with-d':
      return { ...own, d: 'AQAB' }
    case 'with-p':
      return { ...own, p: 'AQAB' }
    case 'use-sig':
      return { ...own, use: 'sig' }
    case 'use-enc':
      return { ...own, use: 'enc' }
    case 'alg-own':
      return { ...own, alg: headerAlg }
    case 'alg-other':
      return { ...own, alg: headerAlg === 'ES256' ? 'ES384' : 'ES256' }
    case 'key_ops-verify':
      return { ...own, key_ops: ['verify'] }
    case 'key_ops-sign':
      return { ...own, key_ops: ['sign'] }
    case 'key_ops-empty':
      return { ...own, key_ops: [] }
    case 'key_ops-dup':
      return { ...own, key_ops: ['verify', 'verify'] }
    case 'ext-false':
      return { ...own, ext: false }
    case 'ext-string':
      return { ...own, ext: 'false' }
    case 'missing':
      return undefined
    case 'array':
      return [own]
    case 'x-padded':
      return own.x === undefined
        ? { ...own, n: `AA${x}` }
        : { ...own, x: Buffer.concat([Buffer.alloc(1), Buffer.from(x, 'base64url')]).toString('base64url') }
    case 'x-number':
      return own.x === undefined ? { ...own, n: 5 } : { ...own, x: 5 }
    case 'kty-oct':
      return { kty: 'oct', k: 'c2VjcmV0' }
    case 'crv-swap':
      return { ...own, crv: own.crv === 'P-256' ? 'P-384' : 'P-256' }
    case 'kid-number':
      return { ...own, kid: 42 }
    default:
      throw new Error(spec.jwk)
  }
}

function mint(spec: Spec): string {
  const signer = signers[spec.signer % signers.length]!
  const alg = spec.alg ?? signer.algs[0]!
  const header = { typ: spec.typ, alg, jwk: jwkFor(spec, signer, alg), ...spec.extras }
  const claims = Object.fromEntries(Object.entries(spec.claims).filter(([, v]) => v !== undefined))
  if (alg === 'HS256') return signCompact(header, claims, 'HS256', JSON.stringify(signer.key.publicJwk))
  if (alg === 'none') return signCompact(header, claims, 'none', '')
  // Sign with the header's algorithm when the key can, else with the key's own (a mismatch).
  return signCompact(header, claims, signer.algs.includes(alg) ? alg : signer.algs[0]!, signer.key.privateKey)
}

const FLIP = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', '=', '+', '/', ' ', '.']
const mutationArb = usually<{ kind: string; segment?: number; position?: number; char?: string }>(
  fc.constant({ kind: 'none' }),
  fc.record({
    kind: fc.constant('flip'),
    segment: fc.integer({ min: 0, max: 2 }),
    position: fc.nat(),
    char: fc.constantFrom(...FLIP),
  }),
  fc.record({ kind: fc.constant('truncate'), position: fc.nat() }),
  fc.record({ kind: fc.constant('append'), char: fc.constantFrom(...FLIP) }),
  fc.constantFrom({ kind: 'swap' }, { kind: 'drop-signature' }, { kind: 'strip-signature' }, { kind: 'pad' }),
)

function mutate(
  proof: string,
  m: { kind: string; segment?: number; position?: number; char?: string },
): string {
  const parts = proof.split('.')
  switch (m.kind) {
    case 'flip': {
      const segment = parts[m.segment!] ?? ''
      if (segment.length === 0) return proof
      const at = m.position! % segment.length
      parts[m.segment!] = segment.slice(0, at) + m.char! + segment.slice(at + 1)
      return parts.join('.')
    }
    case 'truncate':
      return proof.slice(0, m.position! % proof.length)
    case 'append':
      return proof + m.char!
    case 'swap':
      return [parts[1], parts[0], parts[2]].join('.')
    case 'drop-signature':
      return `${parts[0]}.${parts[1]}`
    case 'strip-signature':
      return `${parts[0]}.${parts[1]}.`
    case 'pad':
      return `${proof}==`
    default:
      return proof
  }
}

function expectationsFor(spec: Spec): DpopProofExpectations {
  return {
    method: 'GET',
    url: URL_,
    nowSec: NOW,
    accessToken: spec.accessToken ? TOKEN : undefined,
    nonce: spec.noncePolicy ? (nonce) => nonce === 'n-now' : undefined,
  }
}

describe('verifyDpopProof agrees with the jose-based check', () => {
  it('on every generated and mutated proof, for every algorithm', async () => {
    const seen = { ok: 0, invalid: 0, nonce: 0 }
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(specArb, validSpecArb, oneFaultArb),
        fc.oneof(fc.constant({ kind: 'none' }), mutationArb),
        async (spec, mutation) => {
          const proof = mutate(mint(spec), mutation)
          const expectations = expectationsFor(spec)
          const expected = await reference(proof, expectations)
          const actual = ours(proof, expectations)
          seen[actual.kind]++
          expect(actual, `verdict for ${JSON.stringify({ spec, mutation })}`).toEqual(expected)
        },
      ),
      { numRuns: 1200 },
    )
    // The property only means something if every verdict occurs often.
    expect(seen.ok).toBeGreaterThan(80)
    expect(seen.invalid).toBeGreaterThan(80)
    expect(seen.nonce).toBeGreaterThan(5)
  })

  it('on every single-character change of a valid proof of each algorithm', async () => {
    const cases: [number, string][] = [
      [0, 'ES256'],
      [1, 'ES384'],
      [2, 'ES512'],
      [3, 'EdDSA'],
      [3, 'Ed25519'],
      [4, 'RS256'],
      [4, 'PS256'],
      [4, 'PS512'],
    ]
    for (const [signer, alg] of cases) {
      const spec: Spec = {
        signer,
        alg,
        typ: 'dpop+jwt',
        jwk: 'own',
        extras: {},
        claims: {
          jti: randomUUID(),
          htm: 'GET',
          htu: URL_,
          iat: NOW,
          exp: undefined,
          nbf: undefined,
          ath: accessTokenHash(TOKEN),
          nonce: undefined,
        },
        noncePolicy: false,
        accessToken: true,
      }
      const proof = mint(spec)
      const expectations = expectationsFor(spec)
      expect(ours(proof, expectations).kind, alg).toBe('ok')
      // The signature's start and end and the payload's end: where a change may still verify.
      const sigStart = proof.lastIndexOf('.') + 1
      for (const position of [sigStart, sigStart + 1, proof.length - 2, proof.length - 1, sigStart - 2]) {
        for (const char of ['A', 'B', 'Q', 'g', 'w', '_', '-', '=']) {
          const changed = proof.slice(0, position) + char + proof.slice(position + 1)
          expect(ours(changed, expectations), `${alg} at ${position} -> ${char}`).toEqual(
            await reference(changed, expectations),
          )
        }
      }
    }
  })
})
