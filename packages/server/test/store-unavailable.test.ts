/**
 * A store that fails (a shared store down, slow, or a custom store that throws anything) never
 * turns into a 500: every request that needs it is answered 503 `temporarily_unavailable` with
 * `Retry-After` and nothing issued without its bookkeeping; JWT issuance for a secret client needs
 * no store at all, and the server recovers by itself when the store is back.
 */
import { randomUUID } from 'node:crypto'
import { privateKeyJwt } from '@oauth-m2m/core'
import type { AuthorizationServerConfig } from '@oauth-m2m/server'
import { exportJWK, generateKeyPair } from 'jose'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { proof, proofKey } from './dpop-proofs.js'
import { type FailureMode, faultyStore, STORE_ERROR_SECRET } from './store-wrappers.js'
import { type Answer, basic, expectOAuthError, postForm, startServer } from './test-server.js'

const SECRET = 'svc-secret-0123456789'
const OPAQUE_API = 'https://opaque.example.com/'

const unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled.length = 0
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

async function setUp(config: Partial<AuthorizationServerConfig> = {}) {
  const store = faultyStore()
  const reported: unknown[] = []
  const key = await generateKeyPair('ES256', { extractable: true })
  const { server, url } = await startServer({
    clients: [
      { client_id: 'svc', client_secret: SECRET, scope: 'read' },
      {
        client_id: 'pk',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(key.publicKey)), kid: 'pk-1', alg: 'ES256' }] },
      },
    ],
    resources: [{ resource: OPAQUE_API, tokenFormat: 'opaque' }],
    store,
    onInternalError: (error) => reported.push(error),
    ...config,
  })
  const token = (body: Record<string, string> = {}, headers = basic('svc', SECRET)) =>
    postForm(`${url}/token`, { grant_type: 'client_credentials', ...body }, headers)
  const assertionToken = async () => {
    const body = new URLSearchParams({ grant_type: 'client_credentials' })
    await privateKeyJwt(key.privateKey, { kid: 'pk-1' }).apply(
      { headers: {}, body },
      { clientId: 'pk', endpoint: `${url}/token`, tokenEndpoint: `${url}/token` },
    )
    return postForm(`${url}/token`, body.toString())
  }
  return { server, url, store, reported, token, assertionToken }
}

/** 503 temporarily_unavailable with a Retry-After, and nothing of the store's error in it. */
function expectUnavailable(answer: Answer): void {
  expectOAuthError(answer, 503, 'temporarily_unavailable')
  expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0)
  expect(answer.text).not.toContain('hunter2')
}

/** Each report is a StoreUnavailableError whose message holds neither the store's error nor a secret. */
function expectReportedWithoutSecrets(reported: unknown[]): void {
  expect(reported.length).toBeGreaterThan(0)
  for (const error of reported) {
    expect(error).toMatchObject({ name: 'StoreUnavailableError', code: 'ERR_STORE_UNAVAILABLE' })
    const { message, stack } = error as Error
    expect(`${message} ${stack}`).not.toContain('hunter2')
    expect(`${message} ${stack}`).not.toContain(SECRET)
  }
}

describe.each<FailureMode>(['reject', 'throw'])('a store whose every call fails (%s)', (mode) => {
  it('answers 503 to opaque token issuance, and issues nothing', async () => {
    const { store, reported, token } = await setUp()
    store.mode = mode
    expectUnavailable(await token({ resource: OPAQUE_API }))
    expectReportedWithoutSecrets(reported)
    store.mode = 'none'
    expect((await token({ resource: OPAQUE_API })).status).toBe(200)
  })

  it('answers 503 to a private_key_jwt client (its assertion jti cannot be spent)', async () => {
    const { store, reported, assertionToken } = await setUp()
    store.mode = mode
    expectUnavailable(await assertionToken())
    expect(store.calls).toContain('useOnce')
    expectReportedWithoutSecrets(reported)
    store.mode = 'none'
    expect((await assertionToken()).status).toBe(200)
  })

  it('answers 503 to a DPoP token request (its proof jti cannot be spent)', async () => {
    const { store, url, token } = await setUp()
    const key = await proofKey()
    const dpop = () => proof(key, { htu: `${url}/token` })
    store.mode = mode
    expectUnavailable(await token({}, { ...basic('svc', SECRET), dpop: await dpop() }))
    store.mode = 'none'
    const answer = await token({}, { ...basic('svc', SECRET), dpop: await dpop() })
    expect(answer.json.token_type).toBe('DPoP')
  })

  it('answers 503 to introspection and revocation of JWTs and opaque tokens', async () => {
    const { store, url, reported, token } = await setUp()
    const jwt = (await token()).json.access_token as string
    const opaque = (await token({ resource: OPAQUE_API })).json.access_token as string
    store.mode = mode
    for (const endpoint of ['introspect', 'revoke']) {
      for (const t of [jwt, opaque]) {
        expectUnavailable(await postForm(`${url}/${endpoint}`, { token: t }, basic('svc', SECRET)))
      }
    }
    expectReportedWithoutSecrets(reported)
    store.mode = 'none'
    const introspected = await postForm(`${url}/introspect`, { token: opaque }, basic('svc', SECRET))
    expect(introspected.json.active).toBe(true)
  })

  it('answers 503 through handle() as well', async () => {
    const { server, store, url } = await setUp()
    store.mode = mode
    const response = await server.handle(
      new Request(`${url}/token`, {
        method: 'POST',
        headers: { ...basic('svc', SECRET), 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', resource: OPAQUE_API }).toString(),
      }),
    )
    expect(response.status).toBe(503)
    expect(response.headers.get('retry-after')).toBe('2')
  })

  it('issues JWTs to a config-file client_secret_basic client, without a single store call', async () => {
    const { store, reported, token } = await setUp()
    store.mode = mode
    const before = store.calls.length
    for (let i = 0; i < 20; i++) {
      const answer = await token({ scope: 'read' })
      expect(answer.status).toBe(200)
      expect(answer.json.token_type).toBe('Bearer')
    }
    expect(store.calls.slice(before)).toEqual([])
    expect(reported).toEqual([])
  })

  it('leaves no rejection unhandled: failed authentications, readiness, rotation', async () => {
    const { server, store, url, token } = await setUp()
    store.mode = mode
    // Failed authentications are counted on the store in the background.
    for (let i = 0; i < 3; i++)
      expect((await token({}, basic('svc', `wrong-${randomUUID()}`))).status).toBe(401)
    expect((await fetch(`${url}/readyz`)).status).toBe(503)
    await expect(server.rotateSigningKey()).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' })
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(unhandled).toEqual([])
  })
})

describe('a store that hangs', () => {
  it('keeps issuing JWTs to secret clients', async () => {
    const { store, token } = await setUp()
    store.mode = 'hang'
    expect((await token()).status).toBe(200)
  })
})

describe('a store that cannot subscribe', () => {
  it('still starts, and reports the failure without the store error', async () => {
    const store = faultyStore()
    store.subscribe = () => {
      throw new Error(`subscribe failed on ${STORE_ERROR_SECRET}`)
    }
    const reported: unknown[] = []
    const { url } = await startServer({
      clients: [{ client_id: 'svc', client_secret: SECRET }],
      store,
      onInternalError: (error) => reported.push(error),
    })
    expect(
      (await postForm(`${url}/token`, { grant_type: 'client_credentials' }, basic('svc', SECRET))).status,
    ).toBe(200)
    expectReportedWithoutSecrets(reported)
    expect(unhandled).toEqual([])
  })
})
