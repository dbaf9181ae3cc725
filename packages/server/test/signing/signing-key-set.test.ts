import { generateKeyPair, generateKeyPairSync } from 'node:crypto'
import { promisify } from 'node:util'
import { ConfigurationError } from '@oauth-m2m/core'
import { calculateJwkThumbprint, type JWK } from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { signJwt, verifyOwnJwt } from '../../src/signing/jwt-signer.js'
import type { SigningAlg } from '../../src/signing/signing-key.js'
import { SigningKeySet } from '../../src/signing/signing-key-set.js'

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']
const MARGIN_MS = 60_000

/** RSA key generation is slow and its time varies a lot: two 2048-bit keys serve every test. */
let rsaPool: JWK[] = []
let rsaNext = 0

beforeAll(async () => {
  const generate = promisify(generateKeyPair)
  const pairs = await Promise.all([1, 2].map(() => generate('rsa', { modulusLength: 2048 })))
  rsaPool = pairs.map((pair) => pair.privateKey.export({ format: 'jwk' }) as JWK)
}, 120_000)

/** A private JWK of this type; consecutive RSA keys are distinct. */
function privateJwk(type: 'ec' | 'rsa' | 'ed25519', extra: Partial<JWK> = {}): JWK {
  if (type === 'rsa') return { ...(rsaPool[rsaNext++ % rsaPool.length] as JWK), ...extra }
  const pair =
    type === 'ec' ? generateKeyPairSync('ec', { namedCurve: 'P-256' }) : generateKeyPairSync('ed25519')
  return { ...(pair.privateKey.export({ format: 'jwk' }) as JWK), ...extra }
}

async function configError(keys: unknown[]): Promise<ConfigurationError> {
  const error = await SigningKeySet.create({ keys: keys as JWK[] }).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ConfigurationError)
  return error as ConfigurationError
}

describe('SigningKeySet.create', () => {
  it('generates one ES256 key by default, its kid the RFC 7638 thumbprint of the public key', async () => {
    const keys = await SigningKeySet.create()
    const { kid, alg, publicJwk, privateKey, publicKey } = keys.current
    expect(alg).toBe('ES256')
    expect(privateKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1')
    expect(publicKey.type).toBe('public')
    const { kty, crv, x, y } = publicJwk
    expect(kid).toBe(await calculateJwkThumbprint({ kty, crv, x, y } as JWK))
    expect(publicJwk).toMatchObject({ kty: 'EC', crv: 'P-256', kid, use: 'sig', alg: 'ES256' })
    expect(keys.algorithms).toEqual(['ES256'])
  })

  it.each([
    ['RS256', 'rsa', 2048],
    ['PS256', 'rsa', 2048],
    ['EdDSA', 'ed25519', undefined],
  ] as const)('generates %s keys of the right type', async (alg, type, bits) => {
    const keys = await SigningKeySet.create({ alg })
    expect(keys.current.alg).toBe(alg)
    expect(keys.current.privateKey.asymmetricKeyType).toBe(type)
    expect(keys.current.privateKey.asymmetricKeyDetails?.modulusLength).toBe(bits)
    expect(keys.current.publicJwk).toMatchObject({ kid: keys.current.kid, use: 'sig', alg })
    const [jwk, next, ...others] = keys.publicJwks().keys
    expect(next).toMatchObject({ kid: keys.next.kid, alg })
    expect(others).toEqual([])
    for (const member of PRIVATE_MEMBERS) {
      expect(jwk).not.toHaveProperty(member)
      expect(next).not.toHaveProperty(member)
    }
  })

  it('imports configured private JWKs: the first is current, the rest stay published', async () => {
    const first = privateJwk('ec', { kid: 'configured-1' })
    const second = privateJwk('rsa', { alg: 'PS256' })
    const keys = await SigningKeySet.create({ keys: [first, second] })
    expect(keys.current.kid).toBe('configured-1')
    expect(keys.current.alg).toBe('ES256')
    const { kty, n, e } = second
    const secondKid = await calculateJwkThumbprint({ kty, n, e } as JWK)
    expect(keys.find(secondKid)?.alg).toBe('PS256')
    expect(keys.algorithms).toEqual(['ES256', 'PS256'])
    // configured keys are never dropped: they may have signed tokens before a restart
    const farFuture = Date.now() + 365 * 86_400_000
    expect(keys.publicJwks(farFuture).keys.map((k) => k.kid)).toEqual([
      'configured-1',
      secondKid,
      keys.next.kid,
    ])
    const token = signJwt(keys.current, { sub: 'a' })
    expect(verifyOwnJwt(token, keys)).toEqual({ sub: 'a' })
  })

  it('infers the algorithm of a configured key from its type, preferring the configured alg for RSA', async () => {
    const rsa = privateJwk('rsa')
    expect((await SigningKeySet.create({ keys: [rsa] })).current.alg).toBe('RS256')
    expect((await SigningKeySet.create({ keys: [rsa], alg: 'PS256' })).current.alg).toBe('PS256')
    expect((await SigningKeySet.create({ keys: [privateJwk('ed25519')] })).current.alg).toBe('EdDSA')
    expect((await SigningKeySet.create({ keys: [privateJwk('ec')], alg: 'RS256' })).current.alg).toBe('ES256')
  })
})

describe('configured key errors', () => {
  it('refuses a public key, naming the entry and never echoing key material', async () => {
    const { d: _d, ...publicOnly } = privateJwk('ec')
    const error = await configError([privateJwk('ec'), publicOnly])
    expect(error.message).toContain('keys[1]')
    expect(error.message).toContain('private')
  })

  it('refuses an alg that does not fit the key type or curve', async () => {
    expect((await configError([privateJwk('rsa', { alg: 'ES256' })])).message).toMatch(
      /keys\[0\].*ES256.*P-256/,
    )
    expect((await configError([privateJwk('ec', { alg: 'RS256' })])).message).toMatch(/RS256.*RSA/)
    expect((await configError([privateJwk('ec', { alg: 'EdDSA' })])).message).toMatch(/EdDSA.*Ed25519/)
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey.export({ format: 'jwk' })
    expect((await configError([{ ...p384, alg: 'ES256' }])).message).toMatch(/ES256.*P-256/)
    expect((await configError([p384])).message).toMatch(/ES256.*P-256/)
  })

  it('refuses unsupported algorithms, symmetric keys and short RSA keys', async () => {
    expect((await configError([privateJwk('ec', { alg: 'HS256' })])).message).toMatch(/keys\[0\]\.alg/)
    expect((await configError([{ kty: 'oct', k: 'c2VjcmV0' }])).message).toMatch(/keys\[0\]\.kty/)
    const short = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({ format: 'jwk' })
    expect((await configError([short])).message).toMatch(/2048/)
  })

  it('refuses keys that are not JWK objects or are corrupt, without echoing the key', async () => {
    expect((await configError(['a string'])).message).toMatch(/keys\[0\] must be a JWK object/)
    const corrupt = { ...privateJwk('ed25519'), d: 'not-a-key' }
    const error = await configError([corrupt])
    expect(error.message).toMatch(/keys\[0\] is not a valid private OKP JWK/)
    expect(JSON.stringify(error.toJSON())).not.toContain('not-a-key')
    expect(error.message).not.toContain(corrupt.x as string)
  })

  it.each(['ec', 'rsa', 'ed25519'] as const)(
    'refuses a %s JWK whose private part belongs to another key',
    async (type) => {
      const { d, p, q, dp, dq, qi } = privateJwk(type)
      const mismatched = { ...privateJwk(type), d, ...(type === 'rsa' ? { p, q, dp, dq, qi } : {}) }
      const error = await configError([mismatched])
      expect(error.message).toMatch(/keys\[0\].*does not belong|keys\[0\] is not a valid/)
      expect(error.message).not.toContain(d as string)
    },
  )

  it('refuses a key not meant for signing and duplicate kids', async () => {
    expect((await configError([privateJwk('ec', { use: 'enc' })])).message).toMatch(/keys\[0\]\.use/)
    expect((await configError([privateJwk('ec', { key_ops: ['verify'] })])).message).toMatch(/key_ops/)
    const twice = privateJwk('ed25519', { kid: 'same' })
    expect((await configError([twice, privateJwk('ec', { kid: 'same' })])).message).toMatch(/keys\[1\]\.kid/)
  })

  it('refuses an unknown algorithm for generated keys and for a rotation, listing the supported ones', async () => {
    const error = await SigningKeySet.create({ alg: 'HS256' as SigningAlg }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toBe('signing alg must be one of ES256, RS256, PS256, EdDSA')
    const keys = await SigningKeySet.create()
    const before = keys.current
    const refused = await keys.rotate('HS256' as SigningAlg).catch((e: unknown) => e)
    expect(refused).toBeInstanceOf(ConfigurationError)
    expect((refused as Error).message).toBe('signing alg must be one of ES256, RS256, PS256, EdDSA')
    expect(keys.current).toBe(before)
  })
})

describe('publicJwks', () => {
  it.each(['ES256', 'RS256', 'PS256', 'EdDSA'] as const)(
    'publishes only public members of configured %s keys',
    async (alg) => {
      const configured = await SigningKeySet.create({
        keys: [privateJwk(alg === 'ES256' ? 'ec' : alg === 'EdDSA' ? 'ed25519' : 'rsa', { alg })],
      })
      const [jwk, next, ...others] = configured.publicJwks().keys
      expect(others).toEqual([])
      for (const member of PRIVATE_MEMBERS) expect(jwk).not.toHaveProperty(member)
      expect(jwk).toMatchObject({ kid: configured.current.kid, use: 'sig', alg })
      // the pre-published next key keeps the configured key's algorithm
      expect(next).toMatchObject({ kid: configured.next.kid, use: 'sig', alg })
    },
  )

  it('returns copies that callers cannot use to alter the published keys', async () => {
    const keys = await SigningKeySet.create()
    const jwks = keys.publicJwks()
    ;(jwks.keys[0] as JWK).kid = 'changed'
    expect(keys.publicJwks().keys[0]?.kid).toBe(keys.current.kid)
  })
})

describe('rotation', () => {
  it('keeps a replaced key published until its last token expired plus the margin', async () => {
    const keys = await SigningKeySet.create()
    const old = keys.current
    const now = Date.now()
    const lastExpiry = now + 300_000
    keys.noteIssued(old, now + 100_000)
    keys.noteIssued(old, lastExpiry)
    keys.noteIssued(old, now + 200_000) // an earlier expiry does not shorten the retention
    const fresh = await keys.rotate()
    expect(keys.current).toBe(fresh)
    expect(fresh.kid).not.toBe(old.kid)

    // the pre-published next key is always last; these expectations are about the others
    const kids = (atMs: number) =>
      keys
        .publicJwks(atMs)
        .keys.map((k) => k.kid)
        .filter((kid) => kid !== keys.next.kid)
    expect(kids(lastExpiry)).toEqual([fresh.kid, old.kid])
    expect(keys.find(old.kid, lastExpiry + MARGIN_MS)).toBe(old)
    expect(kids(lastExpiry + MARGIN_MS)).toEqual([fresh.kid, old.kid])
    expect(kids(lastExpiry + MARGIN_MS + 1)).toEqual([fresh.kid])
    expect(keys.find(old.kid, lastExpiry + MARGIN_MS + 1)).toBeUndefined()
    // a dropped key stays dropped even when asked about an earlier time
    expect(kids(now)).toEqual([fresh.kid])
  })

  it('publishes the next key before it signs, and rotation makes exactly that key current', async () => {
    const keys = await SigningKeySet.create()
    const next = keys.next
    expect(keys.publicJwks().keys.map((k) => k.kid)).toContain(next.kid)
    // published, but it has signed nothing: tokens claiming it are not the server's own
    expect(keys.find(next.kid)).toBeUndefined()
    expect(await keys.rotate()).toBe(next)
    expect(keys.current).toBe(next)
    expect(keys.next.kid).not.toBe(next.kid)
    expect(keys.publicJwks().keys.map((k) => k.kid)).toContain(keys.next.kid)
  })

  it('keeps a key that never signed anything only for the margin after it was replaced', async () => {
    const keys = await SigningKeySet.create({ alg: 'EdDSA' })
    const unused = keys.current
    const before = Date.now()
    await keys.rotate()
    const after = Date.now()
    expect(keys.find(unused.kid, before + MARGIN_MS)).toBe(unused)
    expect(keys.find(unused.kid, after + MARGIN_MS + 1)).toBeUndefined()
  })

  it('extends retention for a token signed with the old key while the rotation happened', async () => {
    const keys = await SigningKeySet.create()
    const old = keys.current
    await keys.rotate()
    const lateExpiry = Date.now() + 600_000
    keys.noteIssued(old, lateExpiry)
    expect(keys.find(old.kid, lateExpiry + MARGIN_MS)).toBe(old)
    expect(keys.find(old.kid, lateExpiry + MARGIN_MS + 1)).toBeUndefined()
  })

  it('never drops the current key, and can change the algorithm', async () => {
    const keys = await SigningKeySet.create({ retentionMarginMs: 0 })
    const es = keys.current
    keys.noteIssued(es, Date.now() + 1000)
    const ed = await keys.rotate('EdDSA')
    expect(ed.alg).toBe('EdDSA')
    expect(keys.algorithms).toEqual(['EdDSA', 'ES256'])
    const far = Date.now() + 86_400_000
    expect(keys.publicJwks(far).keys.map((k) => k.kid)).toEqual([ed.kid, keys.next.kid])
    expect(keys.find(ed.kid, far)).toBe(ed)
    // later rotations, and so the pre-published next key, keep the algorithm asked for
    expect(keys.next.alg).toBe('EdDSA')
    expect(keys.algorithms).toEqual(['EdDSA'])
  })

  it('keeps several generations while each has live tokens', async () => {
    const keys = await SigningKeySet.create()
    const now = Date.now()
    const g1 = keys.current
    keys.noteIssued(g1, now + 1_000_000)
    const g2 = await keys.rotate()
    keys.noteIssued(g2, now + 2_000_000)
    const g3 = await keys.rotate()
    const kids = (atMs: number) =>
      keys
        .publicJwks(atMs)
        .keys.map((k) => k.kid)
        .filter((kid) => kid !== keys.next.kid)
    expect(kids(now + 1_000_000)).toEqual([g3.kid, g2.kid, g1.kid])
    expect(kids(now + 1_000_000 + MARGIN_MS + 1)).toEqual([g3.kid, g2.kid])
    expect(kids(now + 2_000_000 + MARGIN_MS + 1)).toEqual([g3.kid])
  })

  it('sign() signs with the current key and keeps that key published until the token expired', async () => {
    const keys = await SigningKeySet.create()
    const signer = keys.current
    const expSec = Math.floor(Date.now() / 1000) + 600
    const token = keys.sign({ sub: 'a', exp: expSec })
    expect(JSON.parse(Buffer.from(token.split('.')[0] as string, 'base64url').toString())).toEqual({
      alg: 'ES256',
      typ: 'at+jwt',
      kid: signer.kid,
    })
    await keys.rotate()
    expect(verifyOwnJwt(token, keys)).toEqual({ sub: 'a', exp: expSec })
    expect(keys.find(signer.kid, expSec * 1000 + MARGIN_MS)).toBe(signer)
    expect(keys.find(signer.kid, expSec * 1000 + MARGIN_MS + 1)).toBeUndefined()
  })

  it('verifies tokens of a replaced key while it is published', async () => {
    const keys = await SigningKeySet.create()
    const old = keys.current
    const token = signJwt(old, { sub: 'a' })
    keys.noteIssued(old, Date.now() + 300_000)
    await keys.rotate()
    expect(verifyOwnJwt(token, keys)).toEqual({ sub: 'a' })
  })
})
