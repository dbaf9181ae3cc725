/**
 * The `now` option: every place the server reads time follows the configured clock, so a suite
 * moves time by changing a number instead of faking timers.
 */
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { createAuthorizationServer, MemoryServerStore, type StoredTokenClaims } from '@oauth-m2m/server'
import { decodeJwt, exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { SigningKeySet } from '../src/signing/signing-key-set.js'
import { basic, handleTokenRequest, postForm, startServer } from './test-server.js'

/** A clock far from the real one (2040-01-01), so nothing passes by reading Date.now() instead. */
function fakeClock() {
  const clock = { ms: Date.UTC(2040, 0, 1), now: () => clock.ms }
  return clock
}

const SVC = { client_id: 'svc', client_secret: 'svc-secret', scope: 'read' }

describe('the now option', () => {
  it('dates issued tokens: iat is now, exp now + lifetime', async () => {
    const clock = fakeClock()
    const { url } = await startServer({ clients: [SVC], accessTokenLifetimeSec: 600, now: clock.now })
    const answer = await postForm(
      `${url}/token`,
      { grant_type: 'client_credentials' },
      basic('svc', 'svc-secret'),
    )
    const claims = decodeJwt(answer.json.access_token)
    expect(claims.iat).toBe(clock.ms / 1000)
    expect(claims.exp).toBe(clock.ms / 1000 + 600)
  })

  it('checks client assertions against it', async () => {
    const clock = fakeClock()
    const keys = await generateKeyPair('ES256', { extractable: true })
    const { url } = await startServer({
      clients: [
        {
          client_id: 'pk',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k' }] },
        },
      ],
      now: clock.now,
    })
    const assertion = (nowSec: number, jti: string) =>
      new SignJWT({ iss: 'pk', sub: 'pk', aud: url, jti, iat: nowSec, exp: nowSec + 60 })
        .setProtectedHeader({ alg: 'ES256', kid: 'k' })
        .sign(keys.privateKey)
    const send = async (nowSec: number, jti: string) =>
      postForm(`${url}/token`, {
        grant_type: 'client_credentials',
        client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
        client_assertion: await assertion(nowSec, jti),
      })
    // Made for the real time: long expired by the server's clock.
    const stale = await send(Math.floor(Date.now() / 1000), 'a')
    expect(stale.status).toBe(401)
    expect(stale.json.error_description).toContain('expired')
    expect((await send(clock.ms / 1000, 'b')).status).toBe(200)
  })

  it("keeps a client's jwks_uri keys fresh by it", async () => {
    const clock = fakeClock()
    const keys = await generateKeyPair('ES256', { extractable: true })
    const jwk = { ...(await exportJWK(keys.publicKey)), kid: 'k', alg: 'ES256' }
    let fetches = 0
    const jwks = createServer((_req, res) => {
      fetches++
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'max-age=60' })
      res.end(JSON.stringify({ keys: [jwk] }))
    })
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve))
    try {
      const { url } = await startServer({
        clients: [
          {
            client_id: 'pk',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks_uri: `http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks`,
          },
        ],
        now: clock.now,
      })
      const send = async (jti: string) => {
        const nowSec = clock.ms / 1000
        const assertion = await new SignJWT({
          iss: 'pk',
          sub: 'pk',
          aud: url,
          jti,
          iat: nowSec,
          exp: nowSec + 60,
        })
          .setProtectedHeader({ alg: 'ES256', kid: 'k' })
          .sign(keys.privateKey)
        return (
          await postForm(`${url}/token`, {
            grant_type: 'client_credentials',
            client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
            client_assertion: assertion,
          })
        ).status
      }
      expect(await send('a')).toBe(200)
      clock.ms += 59_000
      expect(await send('b')).toBe(200)
      expect(fetches).toBe(1)
      // Past the endpoint's max-age by the server's clock, though barely any real time went by.
      clock.ms += 2_000
      expect(await send('c')).toBe(200)
      expect(fetches).toBe(2)
    } finally {
      await new Promise((resolve) => jwks.close(resolve))
    }
  })

  it('expires JWT and opaque tokens for introspection by it', async () => {
    const clock = fakeClock()
    const { url } = await startServer({
      clients: [SVC, { client_id: 'rs', client_secret: 'rs-secret' }],
      resources: [{ resource: 'https://opaque.example.com/', tokenFormat: 'opaque' }],
      accessTokenLifetimeSec: 60,
      now: clock.now,
    })
    const issue = async (extra: Record<string, string> = {}) =>
      (
        await postForm(
          `${url}/token`,
          { grant_type: 'client_credentials', ...extra },
          basic('svc', 'svc-secret'),
        )
      ).json.access_token as string
    const active = async (token: string) =>
      (await postForm(`${url}/introspect`, { token }, basic('rs', 'rs-secret'))).json.active
    const jwt = await issue()
    const opaque = await issue({ resource: 'https://opaque.example.com/' })
    expect([await active(jwt), await active(opaque)]).toEqual([true, true])
    clock.ms += 60_000
    expect([await active(jwt), await active(opaque)]).toEqual([false, false])
  })

  it('ends rate-limit windows by it', async () => {
    const clock = fakeClock()
    const server = await createAuthorizationServer({
      issuer: 'https://as.example.com',
      clients: [SVC],
      rateLimit: { maxFailures: 2, windowMs: 60_000 },
      now: clock.now,
    })
    const token = (secret: string) =>
      handleTokenRequest(server, 'https://as.example.com', { clientId: 'svc', secret })
    expect([await token('guess-1'), await token('guess-2')]).toEqual([401, 401])
    expect(await token('svc-secret')).toBe(429)
    clock.ms += 59_000
    expect(await token('svc-secret')).toBe(429)
    clock.ms += 1_001
    expect(await token('svc-secret')).toBe(200)
  })

  it('expires MemoryServerStore entries by it', async () => {
    const clock = fakeClock()
    const store = new MemoryServerStore({ now: clock.now })
    await store.saveOpaqueToken('h', { jti: 'j' } as StoredTokenClaims, clock.ms + 1000)
    await store.revokeJti('j', clock.ms + 1000)
    expect(await store.findOpaqueToken('h')).toBeDefined()
    expect(await store.isJtiRevoked('j')).toBe(true)
    clock.ms += 1001
    expect(await store.findOpaqueToken('h')).toBeUndefined()
    expect(await store.isJtiRevoked('j')).toBe(false)
  })

  it('retires replaced signing keys by it', async () => {
    const clock = fakeClock()
    const keys = await SigningKeySet.create({ now: clock.now, retentionMarginMs: 1000 })
    const old = keys.current
    keys.sign({ exp: clock.ms / 1000 + 60 })
    await keys.rotate()
    clock.ms += 61_000
    expect(keys.find(old.kid)).toBe(old)
    clock.ms += 1
    expect(keys.find(old.kid)).toBeUndefined()
    expect(keys.publicJwks().keys.map((k) => k.kid)).not.toContain(old.kid)
  })

  it('refuses a now that is not a function', async () => {
    const error = await createAuthorizationServer({ clients: [], now: 5 as never }).catch((e: unknown) => e)
    expect((error as Error).message).toContain('now')
  })
})
