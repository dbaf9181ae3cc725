/**
 * Differential tests of the claim mapping (`claims: { clientId, scopes }`) for strict RFC 9068
 * tokens, generated valid and mutated:
 *
 * - Against the past: today's verifier with its defaults (no `claims` option, and `claims` set to
 *   the defaults explicitly) reaches the verdict of the claim rules from before claim names became
 *   configurable, kept frozen in `support/pre-issue-10-claims.ts` (commit 84693d7): the same
 *   principal, or a refusal of the same error class and code. Messages are not compared: two
 *   were reworded on purpose (see the CHANGELOG).
 * - Within today's code: `claims` set to the defaults gives exactly the verdict of no `claims`
 *   option, messages included, also under the header `typ` variants.
 *
 * The fixed examples at the end pin today's answers for chosen cases, with today's messages.
 */
import { generateKeyPairSync, type JsonWebKey } from 'node:crypto'
import { createVerifier, type Principal, type Verifier, type VerifierOptions } from '@oauth-m2m/verifier'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, ISSUER } from './support/keys.js'
import { PRE_ISSUE_10_DEFAULTS, principalFromClaims } from './support/pre-issue-10-claims.js'
import { signCompact } from './support/raw-jws.js'

const KID = 'differential-key'
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const publicJwk = {
  ...(publicKey.export({ format: 'jwk' }) as JsonWebKey),
  kid: KID,
  alg: 'ES256',
  use: 'sig',
}

/** A fixed clock (epoch ms), so that a generated exp or nbf judges alike in both verifiers. */
const NOW_MS = 1_800_000_000_000
const nowSec = NOW_MS / 1000

function verifierWith(extra: Partial<VerifierOptions>): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwks: { keys: [publicJwk as never] },
    tokenCache: false,
    now: () => NOW_MS,
    ...extra,
  })
}

let withoutOption: Verifier
let withDefaults: Verifier
beforeAll(() => {
  withoutOption = verifierWith({})
  withDefaults = verifierWith({ claims: { clientId: ['client_id'], scopes: ['scope'] } })
})
afterAll(async () => {
  await withoutOption.close()
  await withDefaults.close()
})

type Verdict = { principal: Principal } | { error: string; code: unknown; message: string }

async function verdictOf(verifier: Verifier, token: string): Promise<Verdict> {
  try {
    return { principal: await verifier.verify(token) }
  } catch (err) {
    const error = err as Error & { code?: unknown }
    return { error: error.constructor.name, code: error.code, message: error.message }
  }
}

function mint(claims: Record<string, unknown>, header: Record<string, unknown> = {}): string {
  return signCompact({ alg: 'ES256', kid: KID, typ: 'at+jwt', ...header }, claims, 'ES256', privateKey)
}

const usually = <T>(common: fc.Arbitrary<T>, ...rare: fc.Arbitrary<T>[]) =>
  fc.oneof({ weight: 6, arbitrary: common }, ...rare.map((arbitrary) => ({ weight: 1, arbitrary })))
const absent = fc.constant(undefined)
/** A JSON value of any type, for the claims whose type is judged. */
const anyJson = fc.oneof(
  fc.string({ maxLength: 12 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.constant(null)), { maxLength: 3 }),
  fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 2 }),
)
// Often from a few names, so that a scope repeated in one claim (kept as signed) is drawn too.
const scopeToken = fc.oneof(fc.constantFrom('read', 'write', 'a:b'), fc.stringMatching(/^[a-z:._-]{1,10}$/))
const scopeString = fc
  .array(scopeToken, { maxLength: 5 })
  .chain((tokens) => fc.constantFrom(tokens.join(' '), ` ${tokens.join('  ')} `, tokens.join(' ')))

const claimsArb = fc.record(
  {
    iss: usually<unknown>(fc.constant(ISSUER), fc.constant('https://evil.example'), absent, anyJson),
    aud: usually<unknown>(
      fc.constant(AUDIENCE),
      fc.constant([AUDIENCE, 'https://other.example']),
      fc.constant('https://other.example'),
      absent,
      anyJson,
    ),
    exp: usually<unknown>(
      fc.integer({ min: nowSec + 60, max: nowSec + 100_000 }),
      fc.integer({ min: nowSec - 100_000, max: nowSec - 60 }),
      absent,
      anyJson,
    ),
    nbf: usually<unknown>(absent, fc.integer({ min: nowSec - 1000, max: nowSec + 1000 }), anyJson),
    iat: usually<unknown>(
      fc.constant(nowSec - 10),
      absent,
      fc.integer({ min: nowSec, max: nowSec + 1000 }),
      anyJson,
    ),
    client_id: usually<unknown>(fc.constantFrom('service-a', 'svc-b'), absent, fc.constant(''), anyJson),
    scope: usually<unknown>(scopeString, absent, fc.constant(''), anyJson),
    sub: usually<unknown>(fc.constant('service-a'), absent, anyJson),
    jti: usually<unknown>(fc.string({ minLength: 1, maxLength: 12 }), absent, anyJson),
    // Claims other issuers use: both verifiers must ignore them.
    azp: usually<unknown>(absent, fc.constant('other-client'), anyJson),
    roles: usually<unknown>(absent, fc.constant(['Things.Read']), anyJson),
    scp: usually<unknown>(absent, scopeString, anyJson),
  },
  { requiredKeys: [] },
)

/** Claims every rule accepts, varied where the mapping reads (scopes) and where it must not (azp, roles, scp). */
const validClaimsArb = fc.record(
  {
    iss: fc.constant(ISSUER),
    aud: fc.constantFrom<unknown>(AUDIENCE, [AUDIENCE, 'https://other.example']),
    exp: fc.integer({ min: nowSec + 60, max: nowSec + 100_000 }),
    iat: fc.constant(nowSec - 10),
    client_id: fc.constantFrom('service-a', 'svc-b'),
    scope: usually<unknown>(scopeString, absent),
    sub: fc.constant('service-a'),
    jti: fc.string({ minLength: 1, maxLength: 12 }),
    azp: usually<unknown>(absent, anyJson),
    roles: usually<unknown>(absent, anyJson),
    scp: usually<unknown>(absent, anyJson),
  },
  { requiredKeys: ['iss', 'aud', 'exp', 'client_id'] },
)

const headerArb = usually<Record<string, unknown>>(
  fc.constant({}),
  fc.constantFrom({ typ: 'JWT' }, { typ: undefined }, { typ: 'application/at+jwt' }, { typ: 'AT+JWT' }),
)

type PastVerdict = { principal: Principal } | { error: string; code: unknown }

/** The verdict of the pre-issue-10 claim rules with that verifier's defaults, on the signed claims. */
function pastVerdictOf(claims: Record<string, unknown>): PastVerdict {
  // What the verifier decodes: the JSON the token carries (undefined members dropped).
  const signed = JSON.parse(JSON.stringify(claims)) as Record<string, unknown>
  try {
    const rules = { issuers: [ISSUER], audiences: [AUDIENCE], ...PRE_ISSUE_10_DEFAULTS }
    return { principal: principalFromClaims(signed, rules, { source: 'jwt' }, NOW_MS) }
  } catch (err) {
    const error = err as Error & { code?: unknown }
    return { error: error.constructor.name, code: error.code }
  }
}

/** A verdict without the message, which the past and today word differently on purpose. */
function withoutMessage(verdict: Verdict): PastVerdict {
  return 'principal' in verdict ? verdict : { error: verdict.error, code: verdict.code }
}

describe('the default claim mapping against the pre-issue-10 claim rules', () => {
  it('gives the verdict of the frozen reference, for generated valid and mutated RFC 9068 claims', async () => {
    let accepted = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(fc.oneof(validClaimsArb, claimsArb), async (claims) => {
        const token = mint(claims)
        const past = pastVerdictOf(claims)
        expect(withoutMessage(await verdictOf(withoutOption, token))).toEqual(past)
        expect(withoutMessage(await verdictOf(withDefaults, token))).toEqual(past)
        if ('principal' in past) accepted++
        else refused++
      }),
      { numRuns: 400 },
    )
    // Both kinds of verdict were compared, not only refusals.
    expect(accepted).toBeGreaterThan(20)
    expect(refused).toBeGreaterThan(20)
  })
})

describe('claims set explicitly to the defaults', () => {
  it('gives the verdict of a verifier without the option, for generated valid and mutated tokens', async () => {
    let accepted = 0
    let refused = 0
    await fc.assert(
      fc.asyncProperty(fc.oneof(validClaimsArb, claimsArb), headerArb, async (claims, header) => {
        const token = mint(claims, header)
        const expected = await verdictOf(withoutOption, token)
        expect(await verdictOf(withDefaults, token)).toEqual(expected)
        if ('principal' in expected) accepted++
        else refused++
      }),
      { numRuns: 400 },
    )
    // Both kinds of verdict were compared, not only refusals.
    expect(accepted).toBeGreaterThan(20)
    expect(refused).toBeGreaterThan(20)
  })
})

describe("today's verdicts, with today's messages (fixed examples)", () => {
  const valid = {
    iss: ISSUER,
    aud: AUDIENCE,
    exp: nowSec + 600,
    iat: nowSec - 10,
    client_id: 'service-a',
    sub: 'service-a',
    scope: 'read:things write:things',
    jti: 'jti-1',
  }

  it.each<[string, Record<string, unknown>, Partial<Principal>]>([
    ['a valid token', {}, { clientId: 'service-a', scopes: ['read:things', 'write:things'] }],
    ['loosely spaced scopes', { scope: '  a   b ' }, { scopes: ['a', 'b'] }],
    ['a repeated scope, kept as signed', { scope: 'a a' }, { scopes: ['a', 'a'] }],
    ['an empty scope', { scope: '' }, { scopes: [] }],
    ['no scope', { scope: undefined }, { scopes: [] }],
    ['azp, roles and scp beside them, ignored', { azp: 'x', roles: [1], scp: 7 }, { clientId: 'service-a' }],
  ])('%s is accepted', async (_, overrides, expected) => {
    const token = mint({ ...valid, ...overrides })
    for (const verifier of [withoutOption, withDefaults]) {
      const verdict = await verdictOf(verifier, token)
      expect(verdict).toMatchObject({
        principal: { ...expected, issuer: ISSUER, audience: [AUDIENCE], source: 'jwt' },
      })
    }
  })

  it.each<[string, Record<string, unknown>, string]>([
    [
      'no client_id',
      { client_id: undefined, azp: 'other-client' },
      'the token names no client (no "client_id" claim)',
    ],
    ['an empty client_id', { client_id: '' }, 'the token\'s "client_id" claim is empty'],
    ['a numeric client_id', { client_id: 7 }, 'the token\'s "client_id" claim is not a string'],
    ['a client_id array', { client_id: ['service-a'] }, 'the token\'s "client_id" claim is not a string'],
    ['a null client_id', { client_id: null }, 'the token\'s "client_id" claim is not a string'],
    ['a numeric scope', { scope: 7 }, 'the token\'s "scope" claim is not a string'],
    ['a scope array', { scope: ['read:things'] }, 'the token\'s "scope" claim is not a string'],
    ['a null scope', { scope: null }, 'the token\'s "scope" claim is not a string'],
    ['no aud', { aud: undefined }, 'the token has no "aud" claim'],
    ['another aud', { aud: 'https://other.example' }, 'the token is not meant for this audience'],
  ])('%s is invalid_token', async (_, overrides, message) => {
    const token = mint({ ...valid, ...overrides })
    for (const verifier of [withoutOption, withDefaults]) {
      expect(await verdictOf(verifier, token)).toEqual({
        error: 'InvalidTokenError',
        code: 'ERR_INVALID_TOKEN',
        message,
      })
    }
  })
})
