/**
 * The `introspection.cache` option: introspection answers shared by several verifiers (the
 * instances of one API), against an introspection endpoint on 127.0.0.1 that counts its calls.
 */
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import {
  createVerifier,
  type IntrospectionCache,
  type IntrospectionCacheEntry,
  type IntrospectionOptions,
  InvalidTokenError,
  type Verifier,
} from '@oauth-m2m/verifier'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type IntrospectionCall, startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const AUDIENCE = 'https://api.b.example'
const OPAQUE = 'Zm9vYmFyLW9wYXF1ZS10b2tlbi0xMjM0NTY3ODkw'
const REVOKED = 'cmV2b2tlZC1vcGFxdWUtdG9rZW4tMDk4NzY1NDMyMQ'
const MAX_TTL_MS = 60_000

let as: TestIssuer
let calls: IntrospectionCall[]
let clockMs: number
const now = () => clockMs
const verifiers: Verifier[] = []

/** A shared cache in a Map, as Redis would be: it records what it was given, with the TTLs. */
function mapCache(): IntrospectionCache & {
  entries: Map<string, { entry: IntrospectionCacheEntry; ttlMs: number }>
} {
  const entries = new Map<string, { entry: IntrospectionCacheEntry; ttlMs: number }>()
  return {
    entries,
    get: async (key) => entries.get(key)?.entry,
    set: async (key, entry, ttlMs) => {
      entries.set(key, { entry: JSON.parse(JSON.stringify(entry)), ttlMs })
    },
  }
}

beforeEach(async () => {
  clockMs = Date.now()
  as = await startTestIssuer()
  calls = []
  as.onIntrospect((call) => {
    calls.push(call)
    if (call.form.get('token') !== OPAQUE) return { body: { active: false } }
    const iat = Math.floor(clockMs / 1000)
    return {
      body: {
        active: true,
        iss: as.issuer,
        aud: AUDIENCE,
        client_id: 'service-a',
        scope: 'read:things',
        exp: iat + 600,
        iat,
      },
    }
  })
})
afterEach(async () => {
  await Promise.all(verifiers.splice(0).map((v) => v.close()))
  await as.close()
})

function instance(
  cache: IntrospectionCache,
  introspection: Partial<IntrospectionOptions> = {},
  timeoutMs?: number,
) {
  const verifier = createVerifier({
    issuer: as.issuer,
    audience: AUDIENCE,
    now,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    introspection: {
      endpoint: as.introspectionEndpoint,
      clientId: 'api-b',
      auth: clientSecretBasic('api-secret'),
      maxTtlMs: MAX_TTL_MS,
      cache,
      ...introspection,
    },
  })
  verifiers.push(verifier)
  return verifier
}

describe('verifiers sharing an introspection cache', () => {
  it('make one introspection call per token between them', async () => {
    const cache = mapCache()
    const [a, b, c] = [instance(cache), instance(cache), instance(cache)]
    const first = await a!.verify(OPAQUE, { requiredScopes: ['read:things'] })
    expect(calls).toHaveLength(1)
    await expect(b!.verify(OPAQUE)).resolves.toEqual(first)
    await expect(c!.verify(OPAQUE)).resolves.toEqual(first)
    expect(calls).toHaveLength(1)
  })

  it('share negative answers too, for inactiveTtlMs', async () => {
    const cache = mapCache()
    const [a, b] = [instance(cache), instance(cache)]
    await expect(a!.verify(REVOKED)).rejects.toBeInstanceOf(InvalidTokenError)
    await expect(b!.verify(REVOKED)).rejects.toBeInstanceOf(InvalidTokenError)
    expect(calls).toHaveLength(1)
    expect([...cache.entries.values()].map((e) => e.ttlMs)).toEqual([5000])
  })

  it('keep tokens out of the cache: keys are digests, values the answers', async () => {
    const cache = mapCache()
    await instance(cache).verify(OPAQUE)
    const stored = JSON.stringify([...cache.entries])
    expect(stored).not.toContain(OPAQUE)
    expect([...cache.entries.values()][0]!.ttlMs).toBe(MAX_TTL_MS)
  })

  it('reuse a shared answer only for what is left of maxTtlMs since it was fetched', async () => {
    const cache = mapCache()
    const [a, b] = [instance(cache), instance(cache)]
    await a!.verify(OPAQUE)
    clockMs += MAX_TTL_MS - 1000
    await b!.verify(OPAQUE)
    expect(calls).toHaveLength(1)
    // b took it with 1 s left: past that, b asks again, although it has held it for 1 s only.
    clockMs += 1001
    await b!.verify(OPAQUE)
    expect(calls).toHaveLength(2)
  })

  it('ask the endpoint when the cache fails, and still answer', async () => {
    const failing: IntrospectionCache = {
      get: () => Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')),
      set: () => {
        throw new Error('connect ECONNREFUSED 127.0.0.1:6379')
      },
    }
    const [a, b] = [instance(failing), instance(failing)]
    await expect(a!.verify(OPAQUE)).resolves.toMatchObject({ clientId: 'service-a' })
    await expect(b!.verify(OPAQUE)).resolves.toMatchObject({ clientId: 'service-a' })
    expect(calls).toHaveLength(2)
  })

  it('ask the endpoint when the cache does not answer within timeoutMs', async () => {
    const hanging: IntrospectionCache = { get: () => new Promise(() => {}), set: () => {} }
    await expect(instance(hanging, {}, 200).verify(OPAQUE)).resolves.toMatchObject({ clientId: 'service-a' })
    expect(calls).toHaveLength(1)
  })

  it('ignore what is not an entry', async () => {
    for (const garbage of [
      { answer: 'x', fetchedAtMs: 1 },
      { answer: { active: 'yes' }, fetchedAtMs: clockMs },
      42,
    ]) {
      const cache: IntrospectionCache = {
        get: () => garbage as unknown as IntrospectionCacheEntry,
        set: () => {},
      }
      await expect(instance(cache).verify(OPAQUE)).resolves.toMatchObject({ clientId: 'service-a' })
    }
    expect(calls).toHaveLength(3)
  })

  it('ignore an entry fetched later than now (beyond the clock tolerance), which would never age out', async () => {
    const forged: IntrospectionCacheEntry = {
      answer: { active: true, client_id: 'forged', scope: 'admin', exp: Math.floor(clockMs / 1000) + 86_400 },
      fetchedAtMs: clockMs + 86_400_000,
    }
    const cache: IntrospectionCache = { get: () => forged, set: () => {} }
    await expect(instance(cache).verify(OPAQUE)).resolves.toMatchObject({ clientId: 'service-a' })
    expect(calls).toHaveLength(1)
  })

  it('is an option checked at creation', () => {
    expect(() => instance({ get: () => undefined } as unknown as IntrospectionCache)).toThrow(
      ConfigurationError,
    )
  })
})
