/**
 * Replay protection is never weakened by traffic: a full replay store refuses the new entry (503
 * with Retry-After) rather than forget a live one, for used assertion jtis and revoked JWTs alike.
 */
import { randomUUID } from 'node:crypto'
import { JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { MemoryServerStore } from '@oauth-m2m/server'
import { SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { basic, expectOAuthError, postForm, startServer } from './test-server.js'

const HMAC_SECRET = 'an-hmac-secret-that-is-long-enough-for-hs512-0123456789abcdef'

function fakeClock() {
  const clock = { ms: Date.now(), now: () => clock.ms }
  return clock
}

/** An assertion signed the way authlib does by default: it lives one hour. */
function assertion(tokenEndpoint: string, nowMs: number, jti = randomUUID()): Promise<string> {
  const nowSec = Math.floor(nowMs / 1000)
  return new SignJWT({ jti })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer('hs-client')
    .setSubject('hs-client')
    .setAudience(tokenEndpoint)
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + 3600)
    .sign(new TextEncoder().encode(HMAC_SECRET))
}

describe('a full replay store', () => {
  it('still refuses a replay, answers a new assertion 503 with Retry-After, and takes it once an entry expires', async () => {
    const clock = fakeClock()
    const { url } = await startServer({
      clients: [
        {
          client_id: 'hs-client',
          client_secret: HMAC_SECRET,
          token_endpoint_auth_method: 'client_secret_jwt',
        },
      ],
      store: new MemoryServerStore({ maxAssertionJtis: 3, now: clock.now }),
      now: clock.now,
    })
    const tokenEndpoint = `${url}/token`
    const token = (clientAssertion: string) =>
      postForm(tokenEndpoint, {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
        client_assertion: clientAssertion,
      })
    const first = await assertion(tokenEndpoint, clock.ms)
    expect((await token(first)).status).toBe(200)
    for (let i = 0; i < 2; i++)
      expect((await token(await assertion(tokenEndpoint, clock.ms))).status).toBe(200)

    // Full of live jtis: the new assertion is refused, no old jti is forgotten for it.
    const refused = expectOAuthError(
      await token(await assertion(tokenEndpoint, clock.ms)),
      503,
      'temporarily_unavailable',
    )
    const retryAfterSec = Number(refused.headers.get('retry-after'))
    // Until the first assertion's exp (one hour) plus the 30 s clock tolerance it is kept for.
    expect(retryAfterSec).toBeGreaterThanOrEqual(3600)
    expect(retryAfterSec).toBeLessThanOrEqual(3631)
    expect(refused.text).not.toContain(HMAC_SECRET)
    expectOAuthError(await token(first), 401, 'invalid_client')

    clock.ms += retryAfterSec * 1000
    expect((await token(await assertion(tokenEndpoint, clock.ms))).status).toBe(200)
  })

  it('keeps every revoked JWT revoked and answers a further revocation 503 with Retry-After (RFC 7009 §2.2.1)', async () => {
    const clock = fakeClock()
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: 'svc-secret' }],
      accessTokenLifetimeSec: 600,
      store: new MemoryServerStore({ maxRevokedJtis: 1, now: clock.now }),
      now: clock.now,
    })
    const auth = basic('svc', 'svc-secret')
    const issue = async () =>
      (await postForm(`${url}/token`, { grant_type: 'client_credentials' }, auth)).json.access_token as string
    const [a, b] = [await issue(), await issue()]
    const revoke = (token: string) => postForm(`${url}/revoke`, { token }, auth)
    const active = async (token: string) => (await postForm(`${url}/introspect`, { token }, auth)).json.active

    expect((await revoke(a)).status).toBe(200)
    const refused = expectOAuthError(await revoke(b), 503, 'temporarily_unavailable')
    const retryAfterSec = Number(refused.headers.get('retry-after'))
    expect(retryAfterSec).toBeGreaterThan(0)
    expect(retryAfterSec).toBeLessThanOrEqual(600)
    expect(await active(a)).toBe(false)
    // Not revoked, and the client was told so: it must treat the token as live.
    expect(await active(b)).toBe(true)
  })

  it('refuses a replay of a long key even when full, and frees room as entries expire', async () => {
    const clock = fakeClock()
    const store = new MemoryServerStore({ maxAssertionJtis: 2, now: clock.now })
    const longKey = 'k'.repeat(60_000)
    expect(await store.useOnce('client-assertion', longKey, clock.ms + 60_000)).toBe(true)
    expect(await store.useOnce('client-assertion', longKey, clock.ms + 60_000)).toBe(false)
    expect(await store.useOnce('client-assertion', 'other', clock.ms + 120_000)).toBe(true)
    expect(await store.useOnce('client-assertion', 'third', clock.ms + 120_000)).toEqual({
      fullUntilMs: clock.ms + 60_000,
    })
    // A replay is a replay even while the store is full.
    expect(await store.useOnce('client-assertion', longKey, clock.ms + 60_000)).toBe(false)
    // Each use has its own bound: used DPoP proofs are still recorded.
    expect(await store.useOnce('dpop-proof', 'third', clock.ms + 60_000)).toBe(true)
    clock.ms += 60_001
    expect(await store.useOnce('client-assertion', 'third', clock.ms + 60_000)).toBe(true)
  })

  it('bounds used DPoP proofs by maxDpopJtis', async () => {
    const clock = fakeClock()
    const store = new MemoryServerStore({ maxDpopJtis: 1, now: clock.now })
    expect(await store.useOnce('dpop-proof', 'a', clock.ms + 61_000)).toBe(true)
    expect(await store.useOnce('dpop-proof', 'b', clock.ms + 61_000)).toEqual({
      fullUntilMs: clock.ms + 61_000,
    })
    expect(await store.useOnce('client-assertion', 'b', clock.ms + 61_000)).toBe(true)
  })
})
