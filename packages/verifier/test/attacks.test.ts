/**
 * Forged, tampered and hostile tokens, each refused with the error a resource server must answer.
 * Attack tokens are minted with jose (or signed raw where jose refuses to produce them) against a
 * JWKS served on 127.0.0.1 that the test controls.
 */
import { createPublicKey, type JsonWebKey } from 'node:crypto'
import { ConfigurationError } from '@oauth-m2m/core'
import {
  type BearerError,
  createVerifier,
  InvalidTokenError,
  type Verifier,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { encodeJson, signCompact } from './support/raw-jws.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

let as: TestIssuer
let attackerServer: TestIssuer
let es256: TestKey
let rs256: TestKey
let attacker: TestKey
let verifier: Verifier

function makeVerifier(overrides: Partial<VerifierOptions> = {}): Verifier {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: as.jwksUri,
    tokenCache: false,
    ...overrides,
  })
}

beforeAll(async () => {
  es256 = await makeKey('ES256', 'main-es256')
  rs256 = await makeKey('RS256', 'main-rs256')
  attacker = await makeKey('ES256', 'attacker')
  as = await startTestIssuer([es256.publicJwk, rs256.publicJwk])
  attackerServer = await startTestIssuer([attacker.publicJwk])
  verifier = makeVerifier()
  // Warm the JWKS so that per-case fetch counts start from a known state.
  await verifier.verify(await mintToken(es256))
})
afterAll(async () => {
  await as.close()
  await attackerServer.close()
})

/** Asserts that `token` is refused with `type`, and that nothing about the error echoes the token. */
async function expectRefused(
  token: string,
  type: new (...args: never[]) => BearerError = InvalidTokenError,
  v: Verifier = verifier,
): Promise<BearerError> {
  const err = await v.verify(token).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(type)
  const error = err as BearerError
  const exposed = `${error.message} ${JSON.stringify(error.toJSON())} ${String(error.stack)}`
  for (const segment of token.split('.').filter((s) => s.length >= 16)) expect(exposed).not.toContain(segment)
  return error
}

describe('algorithm attacks', () => {
  it('refuses alg none', async () => {
    const token = signCompact({ alg: 'none', typ: 'at+jwt', kid: es256.kid }, accessTokenClaims(), 'none', '')
    await expectRefused(token)
    await expectRefused(signCompact({ alg: 'none', typ: 'at+jwt' }, accessTokenClaims(), 'none', ''))
  })

  it('refuses HS256 signed with the RSA public key in PEM form', async () => {
    const pem = createPublicKey({ key: rs256.publicJwk as JsonWebKey, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString()
    const token = signCompact(
      { alg: 'HS256', typ: 'at+jwt', kid: rs256.kid },
      accessTokenClaims(),
      'HS256',
      pem,
    )
    await expectRefused(token)
  })

  it('refuses HS256 signed with the public key in JWK form', async () => {
    for (const jwk of [rs256.publicJwk, es256.publicJwk]) {
      const secret = JSON.stringify(jwk)
      await expectRefused(
        signCompact({ alg: 'HS256', typ: 'at+jwt', kid: jwk.kid }, accessTokenClaims(), 'HS256', secret),
      )
    }
  })

  it('cannot be configured to accept HMAC at all', () => {
    expect(() => makeVerifier({ algorithms: ['HS256' as 'RS256'] })).toThrow(ConfigurationError)
  })

  it('refuses an algorithm outside the allowlist even with a valid signature', async () => {
    const esOnly = makeVerifier({ algorithms: ['ES256'] })
    await expectRefused(await mintToken(rs256), InvalidTokenError, esOnly)
    await expect(esOnly.verify(await mintToken(es256))).resolves.toBeDefined()
  })

  it('refuses an alg that does not fit the key of the kid', async () => {
    // RS256 header naming the EC key: the key type pins the algorithm family.
    const token = signCompact(
      { alg: 'RS256', typ: 'at+jwt', kid: es256.kid },
      accessTokenClaims(),
      'RS256',
      rs256.privateKey,
    )
    await expectRefused(token)
  })
})

describe('key selection attacks', () => {
  it('refuses an unknown kid', async () => {
    await expectRefused(await mintToken(attacker, accessTokenClaims(), { kid: 'no-such-key' }))
  })

  it.each([
    '../../../../etc/passwd',
    "' OR '1'='1",
    '1; DROP TABLE keys; --',
    'main-es256\u0000',
    '%2e%2e%2fjwks',
  ])('refuses kid %j', async (kid) => {
    await expectRefused(await mintToken(es256, accessTokenClaims(), { kid }))
  })

  it.each(['jku', 'x5u'])('never fetches keys from a %s header', async (member) => {
    const before = attackerServer.counts.jwks
    const token = await mintToken(attacker, accessTokenClaims(), {
      kid: attacker.kid,
      [member]: attackerServer.jwksUri,
    })
    await expectRefused(token)
    const sameKid = await mintToken(attacker, accessTokenClaims(), {
      kid: es256.kid,
      [member]: attackerServer.jwksUri,
    })
    await expectRefused(sameKid)
    expect(attackerServer.counts.jwks).toBe(before)
  })

  it('never uses a key embedded in a jwk header', async () => {
    await expectRefused(
      await mintToken(attacker, accessTokenClaims(), { kid: es256.kid, jwk: attacker.publicJwk }),
    )
    await expectRefused(
      await mintToken(attacker, accessTokenClaims(), { jwk: attacker.publicJwk, kid: undefined }),
    )
  })

  it("refuses a signature from another issuer's key that carries the same kid", async () => {
    const impostor = await makeKey('ES256', es256.kid)
    await expectRefused(await mintToken(impostor))
  })
})

describe('header attacks', () => {
  const sign = (header: Record<string, unknown>, claims: unknown = accessTokenClaims()) =>
    signCompact({ alg: 'ES256', kid: es256.kid, typ: 'at+jwt', ...header }, claims, 'ES256', es256.privateKey)

  it('accepts the raw-signed baseline, so the cases below fail for their header alone', async () => {
    await expect(verifier.verify(sign({}))).resolves.toMatchObject({ clientId: 'service-a' })
  })

  it('refuses crit with an unknown extension', async () => {
    await expectRefused(sign({ crit: ['exp'], exp: 1 }))
    await expectRefused(sign({ crit: ['urn:example:unknown'], 'urn:example:unknown': true }))
  })

  it('refuses malformed crit', async () => {
    await expectRefused(sign({ crit: [] }))
    await expectRefused(sign({ crit: 'b64' }))
    await expectRefused(sign({ crit: ['b64'] }))
  })

  it('refuses b64: false, in crit or not', async () => {
    const claims = JSON.stringify(accessTokenClaims())
    await expectRefused(sign({ b64: false, crit: ['b64'] }, claims))
    await expectRefused(sign({ b64: false, crit: ['b64'] }))
    await expectRefused(sign({ b64: false }))
  })

  it('refuses a nested JWT (cty: JWT)', async () => {
    const inner = await mintToken(es256)
    await expectRefused(sign({ cty: 'JWT' }, inner))
    await expectRefused(sign({ cty: 'JWT' }))
    await expectRefused(sign({ cty: 'application/jwt' }))
  })

  it.each(['JWT', 'jwt', 'dpop+jwt', 'application/dpop+jwt', 'logout+jwt'])('refuses typ %s', async (typ) => {
    await expectRefused(sign({ typ }))
  })

  it('refuses a kid that is not a string', async () => {
    await expectRefused(sign({ kid: 1 }))
  })
})

describe('claim attacks', () => {
  const now = () => Math.floor(Date.now() / 1000)

  it.each([
    ['wrong iss', () => ({ iss: 'https://evil.example' }), /issuer/],
    ['iss with a trailing slash', () => ({ iss: `${ISSUER}/` }), /issuer/],
    ['missing iss', () => ({ iss: undefined }), /"iss"/],
    ['wrong aud', () => ({ aud: 'https://other-api.example' }), /audience/],
    ['missing aud', () => ({ aud: undefined }), /"aud"/],
    ['expired', () => ({ exp: now() - 60 }), /expired/],
    ['nbf in the future', () => ({ nbf: now() + 300 }), /not valid yet/],
    ['iat far in the future', () => ({ iat: now() + 3600 }), /future/],
    ['missing exp', () => ({ exp: undefined }), /"exp"/],
  ])('refuses %s', async (_name, overrides, message) => {
    const err = await expectRefused(await mintToken(es256, accessTokenClaims(overrides())))
    expect(err.message).toMatch(message)
  })
})

describe('malformed input', () => {
  it('refuses truncated tokens', async () => {
    const token = await mintToken(es256)
    const [header, payload, signature] = token.split('.') as [string, string, string]
    for (const cut of [
      token.slice(0, -1),
      token.slice(0, -10),
      `${header}.${payload}.`,
      `${header}.${payload}`,
      header,
      `${header}.`,
      `.${payload}.${signature}`,
      token.slice(0, token.length / 2),
    ]) {
      await expectRefused(cut)
    }
  })

  it('refuses garbage', async () => {
    for (const garbage of [
      '',
      ' ',
      '.',
      '..',
      '...',
      'a.b.c',
      'not a token',
      'Bearer abc',
      '{"alg":"none"}',
      `${encodeJson([1])}.${encodeJson({})}.`,
      `${encodeJson('x')}.${encodeJson({})}.AAAA`,
      `${Buffer.from([0xff, 0xfe]).toString('base64url')}.e30.AAAA`,
      'eyJhbGciOiJFUzI1NiJ9.!!!.AAAA',
      'é.é.é',
    ]) {
      await expectRefused(garbage)
    }
  })

  it('refuses non-string input without crashing', async () => {
    for (const value of [undefined, null, 42, {}, ['a.b.c']]) {
      await expect(verifier.verify(value as unknown as string)).rejects.toThrow(InvalidTokenError)
    }
  })

  it('refuses a 10 MB token by its length, before parsing or fetching anything', async () => {
    const fetchesBefore = as.counts.jwks
    const fresh = makeVerifier()
    const huge = `${encodeJson({ alg: 'ES256', kid: 'x', typ: 'at+jwt' })}.${'A'.repeat(10 * 1024 * 1024)}.AAAA`
    const err = await expectRefused(huge, InvalidTokenError, fresh)
    expect(err.message).toMatch(/longer than 16384 characters/)
    await expectRefused('x'.repeat(10 * 1024 * 1024), InvalidTokenError, fresh)
    expect(as.counts.jwks).toBe(fetchesBefore)
  })
})
