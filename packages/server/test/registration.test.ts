import { randomUUID } from 'node:crypto'
import { ConfigurationError, JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import {
  type AuthorizationServerConfig,
  createAuthorizationServer,
  MemoryServerStore,
  type RegistrationConfig,
  type StoredClient,
  secretDigest,
} from '@oauth-m2m/server'
import { exportJWK, generateKeyPair, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { issueCertificate, jwkWithX5c, type TestCertificate, testPki } from './mtls-support.js'
import { type Answer, basic, expectOAuthError, postForm, send, startServer } from './test-server.js'

const IAT = 'initial-access-token-0123456789-abcdefghijklmnop'
const GRANT = { grant_type: 'client_credentials' }
const SEED = { client_id: 'seed', client_secret: 'seed-secret', scope: 'read write' }

function startRegistering(
  registration: RegistrationConfig = { initialAccessTokens: [IAT] },
  extra: Partial<AuthorizationServerConfig> = {},
) {
  return startServer({ clients: [SEED], registration, ...extra })
}

/** POSTs `metadata` to the registration endpoint with `token` as Bearer (`null`: no Authorization). */
function register(
  url: string,
  metadata: unknown,
  token: string | null = IAT,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return send(`${url}/register`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === null ? {} : { authorization: `Bearer ${token}` }),
      ...headers,
    },
    body: typeof metadata === 'string' ? metadata : JSON.stringify(metadata),
  })
}

function manage(
  uri: string,
  method: 'GET' | 'PUT' | 'DELETE',
  token: string | undefined,
  body?: unknown,
): Promise<Answer> {
  return send(uri, {
    method,
    headers: {
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

function tokenWith(url: string, clientId: string, secret: string): Promise<Answer> {
  return postForm(`${url}/token`, GRANT, basic(clientId, secret))
}

/** A 401 `invalid_token` per RFC 6750 §3: the challenge names the error only when a token was sent. */
function expectRefusedToken(answer: Answer, sent: boolean): void {
  expectOAuthError(answer, 401, 'invalid_token')
  const challenge = answer.headers.get('www-authenticate') ?? ''
  expect(challenge).toMatch(/^Bearer realm="oauth-m2m"/)
  expect(challenge.includes('error="invalid_token"')).toBe(sent)
}

function configurationError(action: () => Promise<unknown>): Promise<ConfigurationError> {
  return action().then(
    () => {
      throw new Error('expected a ConfigurationError')
    },
    (error: unknown) => {
      expect(error).toBeInstanceOf(ConfigurationError)
      return error as ConfigurationError
    },
  )
}

describe('registration is off by default', () => {
  it('answers 404 at /register and advertises no registration_endpoint', async () => {
    const { url } = await startServer({ clients: [SEED] })
    expectOAuthError(await register(url, { scope: 'read' }), 404, 'not_found')
    const { json: metadata } = await send(`${url}/.well-known/oauth-authorization-server`)
    expect(metadata.registration_endpoint).toBeUndefined()
  })
})

describe('the registration option', () => {
  it.each([
    [{}, 'registration needs initialAccessTokens, or open: true'],
    [{ open: false }, 'registration needs initialAccessTokens'],
    [
      { open: true, initialAccessTokens: [IAT] },
      'registration takes initialAccessTokens or open: true, not both',
    ],
    [{ initialAccessTokens: [] }, 'registration.initialAccessTokens must hold at least one token'],
    [{ initialAccessTokens: ['short'] }, 'registration.initialAccessTokens[0] must be at least 32'],
    [{ initialAccessTokens: [`${IAT} spaced`] }, 'registration.initialAccessTokens[0] must be at least 32'],
    [{ initialAccessTokens: [`${IAT}!`] }, 'RFC 6750 b64token syntax'],
    [{ open: 'yes' }, 'registration.open must be a boolean'],
    [{ open: true, secretGraceSec: -1 }, 'registration.secretGraceSec must be a non-negative integer'],
    [{ open: true, scopes: ['a b'] }, 'registration.scopes[0] must be one scope token'],
    [{ open: true, maxClients: 3 }, 'registration.maxClients is not a known option'],
  ])('refuses %j at start', async (registration, message) => {
    const error = await configurationError(() =>
      createAuthorizationServer({ clients: [], registration: registration as RegistrationConfig }),
    )
    expect(error.message).toContain(message)
    expect(error.message).not.toContain('short')
  })
})

describe('POST /register (RFC 7591)', () => {
  it('advertises registration_endpoint and registers a client_secret_basic client that gets tokens at once', async () => {
    const { url } = await startRegistering()
    const { json: metadata } = await send(`${url}/.well-known/oauth-authorization-server`)
    expect(metadata.registration_endpoint).toBe(`${url}/register`)

    const answer = await register(url, { scope: 'read', client_name: 'Billing', unknown_member: 'x' })

    expect(answer.status).toBe(201)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    const info = answer.json
    expect(info).toEqual({
      client_id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/),
      client_secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      client_id_issued_at: expect.any(Number),
      client_secret_expires_at: 0,
      registration_access_token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      registration_client_uri: `${url}/register/${info.client_id}`,
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'],
      scope: 'read',
      client_name: 'Billing',
    })
    expect(answer.headers.get('location')).toBe(info.registration_client_uri)
    expect(Math.abs(info.client_id_issued_at - Date.now() / 1000)).toBeLessThan(60)

    const token = await tokenWith(url, info.client_id, info.client_secret)
    expect(token.status).toBe(200)
    expect(token.json.scope).toBe('read')
    expectOAuthError(await tokenWith(url, info.client_id, 'wrong'), 401, 'invalid_client')
  })

  it('keeps only digests in the store: no clear secret or registration access token', async () => {
    const store = new MemoryServerStore()
    const { url } = await startRegistering(undefined, { store })
    const { json: info } = await register(url, { scope: 'read' })

    const stored = await store.findClient(info.client_id)
    const text = JSON.stringify(stored)

    expect(stored?.client_id).toBe(info.client_id)
    expect(text).not.toContain(info.client_secret)
    expect(text).not.toContain(info.registration_access_token)
    expect(text).not.toContain(IAT)
    expect(text).toContain(secretDigest(info.client_secret))
    expect(text).toContain(secretDigest(info.registration_access_token))
  })

  it('refuses a missing or wrong initial access token with 401 invalid_token and a Bearer challenge', async () => {
    const { url } = await startRegistering({ initialAccessTokens: [`other-${IAT}`, IAT] })

    expectRefusedToken(await register(url, { scope: 'read' }, null), false)
    expectRefusedToken(await register(url, { scope: 'read' }, `${IAT}x`), true)
    expectRefusedToken(await register(url, { scope: 'read' }, null, { authorization: `Basic ${IAT}` }), true)
    // The second configured token works as well as the first.
    expect((await register(url, { scope: 'read' }, IAT)).status).toBe(201)
    expect((await register(url, { scope: 'read' }, `other-${IAT}`)).status).toBe(201)
  })

  it('refuses two Authorization headers (joined by Headers) with 400 invalid_request', async () => {
    const { server } = await startRegistering()
    const response = await server.handle(
      new Request(`${server.issuer}/register`, {
        method: 'POST',
        headers: [
          ['content-type', 'application/json'],
          ['authorization', `Bearer ${IAT}`],
          ['authorization', `Bearer ${IAT}`],
        ],
        body: '{}',
      }),
    )
    expect(response.status).toBe(400)
    expect(((await response.json()) as { error: string }).error).toBe('invalid_request')
  })

  it('registers without a token when open: true', async () => {
    const { url } = await startRegistering({ open: true })
    const answer = await register(url, { scope: 'write' }, null)
    expect(answer.status).toBe(201)
    expect((await tokenWith(url, answer.json.client_id, answer.json.client_secret)).json.scope).toBe('write')
  })

  it('registers a private_key_jwt client with jwks: no secret issued, assertions accepted', async () => {
    const { url } = await startRegistering()
    const { publicKey, privateKey } = await generateKeyPair('ES256')
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }

    const answer = await register(url, { token_endpoint_auth_method: 'private_key_jwt', jwks, scope: 'read' })

    expect(answer.status).toBe(201)
    expect(answer.json.client_secret).toBeUndefined()
    expect(answer.json.client_secret_expires_at).toBeUndefined()
    expect(answer.json.jwks).toEqual(jwks)
    const clientId = answer.json.client_id
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(url)
      .setJti(randomUUID())
      .setExpirationTime('1m')
      .sign(privateKey)
    const token = await postForm(`${url}/token`, {
      ...GRANT,
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: assertion,
    })
    expect(token.status).toBe(200)
  })

  it('registers client_secret_post clients, which must then use client_secret_post', async () => {
    const { url } = await startRegistering()
    const { json: info } = await register(url, { token_endpoint_auth_method: 'client_secret_post' })
    const post = await postForm(`${url}/token`, {
      ...GRANT,
      client_id: info.client_id,
      client_secret: info.client_secret,
    })
    expect(post.status).toBe(200)
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')
  })

  it.each([
    [{ token_endpoint_auth_method: 'client_secret_jwt' }, 'invalid_client_metadata', 'keeps only a digest'],
    [{ token_endpoint_auth_method: 'none' }, 'invalid_client_metadata', 'confidential clients'],
    [
      { token_endpoint_auth_method: 'magic' },
      'invalid_client_metadata',
      'token_endpoint_auth_method must be one of',
    ],
    [{ grant_types: ['authorization_code'] }, 'invalid_client_metadata', 'grant_types must be'],
    [{ grant_types: [] }, 'invalid_client_metadata', 'grant_types must be'],
    [{ scope: 'read admin' }, 'invalid_client_metadata', 'scope holds a scope'],
    [{ scope: 'read  write' }, 'invalid_client_metadata', 'scope must be RFC 6749 scope tokens'],
    [
      { token_endpoint_auth_method: 'private_key_jwt' },
      'invalid_client_metadata',
      'jwks or jwks_uri is required',
    ],
    [
      { token_endpoint_auth_method: 'private_key_jwt', jwks: { keys: [{ kty: 'EC', d: 'secret' }] } },
      'invalid_client_metadata',
      'it holds private key material',
    ],
    [
      { token_endpoint_auth_method: 'private_key_jwt', jwks_uri: 'ftp://keys' },
      'invalid_client_metadata',
      'jwks_uri must be',
    ],
    [
      { token_endpoint_auth_method: 'tls_client_auth', tls_client_auth_subject_dn: 'CN=a' },
      'invalid_client_metadata',
      'mtls',
    ],
    [
      { client_uri: 'javascript:alert(1)' },
      'invalid_client_metadata',
      'client_uri must be an http or https URL',
    ],
    [{ contacts: 'ops@example.test' }, 'invalid_client_metadata', 'contacts must be an array'],
    [{ client_secret: 'chosen-by-me' }, 'invalid_client_metadata', 'client_secret is issued by the server'],
    [
      { client_secret_hash: 'A'.repeat(43) },
      'invalid_client_metadata',
      'client_secret_hash is issued by the server',
    ],
    [
      { redirect_uris: ['https://app.example.test/cb'] },
      'invalid_redirect_uri',
      'redirect_uris must be left out',
    ],
    [{ response_types: ['code'] }, 'invalid_client_metadata', 'response_types must be left out'],
    [{ software_statement: 'a.b.c' }, 'unapproved_software_statement', 'approves no software statement'],
    [{ software_statement: 'not a jwt' }, 'invalid_software_statement', 'must be a signed JWT'],
    [
      { dpop_bound_access_tokens: 'yes' },
      'invalid_client_metadata',
      'dpop_bound_access_tokens must be a boolean',
    ],
  ])('refuses %j with 400 %s', async (metadata, error, description) => {
    const { url } = await startRegistering()
    const answer = expectOAuthError(await register(url, metadata), 400, error)
    expect(answer.json.error_description).toContain(description)
    expect(answer.text).not.toContain('chosen-by-me')
  })

  it('ignores members it does not understand, null values and empty redirect_uris, and echoes none of them', async () => {
    const { url } = await startRegistering()
    const answer = await register(url, {
      scope: 'read',
      client_name: null,
      redirect_uris: [],
      'client_name#ja-Jpan-JP': 'x',
      logo: { nested: true },
      client_id: 'chosen-id',
      registration_access_token: 'mine',
    })
    expect(answer.status).toBe(201)
    expect(Object.keys(answer.json).sort()).toEqual(
      [
        'client_id',
        'client_id_issued_at',
        'client_secret',
        'client_secret_expires_at',
        'grant_types',
        'registration_access_token',
        'registration_client_uri',
        'scope',
        'token_endpoint_auth_method',
      ].sort(),
    )
    expect(answer.json.client_id).not.toBe('chosen-id')
    expect(answer.json.registration_access_token).not.toBe('mine')
  })

  it('takes application/json only: 415 otherwise, 400 for bodies that are not a JSON object', async () => {
    const { url } = await startRegistering()
    const wrongType = await register(url, '{"scope":"read"}', IAT, {
      'content-type': 'application/x-www-form-urlencoded',
    })
    expectOAuthError(wrongType, 415, 'invalid_request')
    expect(wrongType.headers.get('accept-post')).toBe('application/json')
    expectOAuthError(await register(url, '{"scope":', IAT), 400, 'invalid_request')
    expectOAuthError(await register(url, '[]', IAT), 400, 'invalid_client_metadata')
    expectOAuthError(await register(url, 'null', IAT), 400, 'invalid_client_metadata')
    const deep = `{"jwks":${'['.repeat(5000)}${']'.repeat(5000)}}`
    expectOAuthError(await register(url, deep, IAT), 400, 'invalid_client_metadata')
    const charset = await register(url, '{"scope":"read"}', IAT, {
      'content-type': 'application/json; charset=utf-8',
    })
    expect(charset.status).toBe(201)
  })

  it('checks the initial access token before reading the body', async () => {
    const { url } = await startRegistering()
    expectRefusedToken(await register(url, 'not json', null, { 'content-type': 'text/plain' }), false)
  })

  it('answers 413 for a body over maxBodyBytes', async () => {
    const { url } = await startRegistering(undefined, { maxBodyBytes: 256 })
    expectOAuthError(await register(url, { client_name: 'x'.repeat(300) }), 413, 'invalid_request')
  })

  it('answers 405 with Allow for other methods', async () => {
    const { url } = await startRegistering()
    const get = await send(`${url}/register`)
    expectOAuthError(get, 405, 'invalid_request')
    expect(get.headers.get('allow')).toBe('POST')
    const patch = await send(`${url}/register/${'a'.repeat(22)}`, { method: 'PATCH' })
    expectOAuthError(patch, 405, 'invalid_request')
    expect(patch.headers.get('allow')).toBe('GET, PUT, DELETE')
    expectOAuthError(await send(`${url}/register/a/b`), 404, 'not_found')
  })

  it('applies the server profile: fapi2 refuses a client_secret_basic registration', async () => {
    const { publicKey } = await generateKeyPair('ES256')
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }
    const { url } = await startServer({
      clients: [],
      profile: 'fapi2',
      registration: { open: true, scopes: ['read'] },
    })
    expectOAuthError(await register(url, { scope: 'read' }, null), 400, 'invalid_client_metadata')
    expect((await register(url, { token_endpoint_auth_method: 'private_key_jwt', jwks }, null)).status).toBe(
      201,
    )
  })

  it('offers registration.scopes instead of the clients scopes when given, and advertises them', async () => {
    const { url } = await startRegistering({ initialAccessTokens: [IAT], scopes: ['reports:read'] })
    expectOAuthError(await register(url, { scope: 'read' }), 400, 'invalid_client_metadata')
    expect((await register(url, { scope: 'reports:read' })).status).toBe(201)
    const { json: metadata } = await send(`${url}/.well-known/oauth-authorization-server`)
    expect(metadata.scopes_supported).toEqual(['read', 'reports:read', 'write'])
  })

  it('answers 503 temporarily_unavailable, never 500, when the store cannot save', async () => {
    class FailingStore extends MemoryServerStore {
      override async saveClient(): Promise<undefined> {
        throw new Error('store down')
      }
    }
    const errors: unknown[] = []
    const { url } = await startRegistering(undefined, {
      store: new FailingStore(),
      onInternalError: (e) => errors.push(e),
    })
    const answer = expectOAuthError(await register(url, { scope: 'read' }), 503, 'temporarily_unavailable')
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(errors).toHaveLength(1)
  })

  it('answers 503 with the store Retry-After when the store is full of registrations', async () => {
    const now = Date.now()
    const store = new MemoryServerStore({ maxRegisteredClients: 1, now: () => now })
    const { url } = await startRegistering(undefined, { store, now: () => now })
    expect((await register(url, {})).status).toBe(201)
    const answer = expectOAuthError(await register(url, {}), 503, 'temporarily_unavailable')
    expect(answer.headers.get('retry-after')).toBe('60')
  })
})

describe('client configuration endpoint (RFC 7592)', () => {
  async function registered(
    registration?: RegistrationConfig,
    extra: Partial<AuthorizationServerConfig> = {},
  ) {
    const running = await startRegistering(registration, extra)
    const answer = await register(running.url, { scope: 'read', client_name: 'Reports' })
    expect(answer.status).toBe(201)
    return { ...running, info: answer.json }
  }

  it('GET shows the registration without the secret, with the registration access token and client URI', async () => {
    const { info } = await registered()
    const answer = await manage(info.registration_client_uri, 'GET', info.registration_access_token)
    expect(answer.status).toBe(200)
    expect(answer.headers.get('cache-control')).toBe('no-store')
    const { client_secret: _shownOnce, ...expected } = info
    expect(answer.json).toEqual(expected)
  })

  it('refuses a missing, wrong or other client token, and an unknown client, with 401 invalid_token', async () => {
    const { url, info } = await registered()
    const { json: other } = await register(url, { scope: 'read' })

    expectRefusedToken(await manage(info.registration_client_uri, 'GET', undefined), false)
    expectRefusedToken(await manage(info.registration_client_uri, 'GET', 'wrong'), true)
    expectRefusedToken(
      await manage(info.registration_client_uri, 'GET', other.registration_access_token),
      true,
    )
    expectRefusedToken(
      await manage(info.registration_client_uri, 'DELETE', other.registration_access_token),
      true,
    )
    expectRefusedToken(
      await manage(`${url}/register/${'x'.repeat(22)}`, 'GET', info.registration_access_token),
      true,
    )
    expectRefusedToken(await manage(`${url}/register/seed`, 'GET', info.registration_access_token), true)
    expectRefusedToken(await manage(info.registration_client_uri, 'GET', info.client_secret), true)
    expectRefusedToken(await manage(info.registration_client_uri, 'GET', IAT), true)
    // The other client is untouched by the refused DELETE.
    expect((await manage(other.registration_client_uri, 'GET', other.registration_access_token)).status).toBe(
      200,
    )
  })

  it('PUT replaces the whole registration: omitted members are removed, the secret and token are kept', async () => {
    const { url, info } = await registered()
    const answer = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
      scope: 'write',
    })

    expect(answer.status).toBe(200)
    expect(answer.json.client_secret).toBeUndefined()
    expect(answer.json.client_name).toBeUndefined()
    expect(answer.json.scope).toBe('write')
    expect(answer.json.registration_access_token).toBe(info.registration_access_token)
    expect(answer.json.client_secret_expires_at).toBe(0)
    const token = await tokenWith(url, info.client_id, info.client_secret)
    expect(token.json.scope).toBe('write')
    const read = await manage(info.registration_client_uri, 'GET', info.registration_access_token)
    expect(read.json.client_name).toBeUndefined()
  })

  it('PUT refuses another client_id, a client_secret other than the current one, and chosen secrets', async () => {
    const { info } = await registered()
    const put = (body: Record<string, unknown>) =>
      manage(info.registration_client_uri, 'PUT', info.registration_access_token, body)

    expectOAuthError(await put({ scope: 'read' }), 400, 'invalid_client_metadata')
    expectOAuthError(await put({ client_id: 'other', scope: 'read' }), 400, 'invalid_client_metadata')
    const chosen = expectOAuthError(
      await put({ client_id: info.client_id, client_secret: 'my-own-secret' }),
      400,
      'invalid_client_metadata',
    )
    expect(chosen.text).not.toContain('my-own-secret')
    expectOAuthError(
      await put({ client_id: info.client_id, client_secrets: ['x'] }),
      400,
      'invalid_client_metadata',
    )
    expectOAuthError(
      await put({ client_id: info.client_id, rotate_client_secret: 'yes' }),
      400,
      'invalid_client_metadata',
    )
    expectOAuthError(await put({ client_id: info.client_id, scope: 'admin' }), 400, 'invalid_client_metadata')
    // Echoing the whole registration back, current secret and response members included, is fine.
    const echoed = await put({ ...info })
    expect(echoed.status).toBe(200)
    expect(echoed.json.client_name).toBe('Reports')
  })

  it('PUT with rotate_client_secret issues a new secret; the old one works for secretGraceSec, then stops', async () => {
    let nowMs = Date.now()
    const now = () => nowMs
    const { url, info } = await registered(
      { initialAccessTokens: [IAT], secretGraceSec: 600 },
      { now, store: new MemoryServerStore({ now }) },
    )

    const answer = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
      scope: 'read',
      rotate_client_secret: true,
    })

    expect(answer.status).toBe(200)
    const newSecret = answer.json.client_secret
    expect(newSecret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(newSecret).not.toBe(info.client_secret)
    expect(answer.json.rotate_client_secret).toBeUndefined()
    expect((await tokenWith(url, info.client_id, newSecret)).status).toBe(200)
    expect((await tokenWith(url, info.client_id, info.client_secret)).status).toBe(200)

    nowMs += 599_000
    expect((await tokenWith(url, info.client_id, info.client_secret)).status).toBe(200)
    nowMs += 1_001
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')
    expect((await tokenWith(url, info.client_id, newSecret)).status).toBe(200)
  })

  it('two PUTs that rotate the secret at once both take effect: each answer holds a secret that works', async () => {
    // Both PUTs read the client before either saves: the second save finds it changed, reads again.
    class ReadTogether extends MemoryServerStore {
      reads: Array<() => void> = []
      replacements = 0
      override async findClient(clientId: string): Promise<StoredClient | undefined> {
        const found = await super.findClient(clientId)
        if (this.reads.length < 2) {
          await new Promise<void>((resolve) => {
            this.reads.push(resolve)
            if (this.reads.length === 2) for (const release of this.reads) release()
          })
        }
        return found
      }
      override async replaceClient(current: StoredClient, next: StoredClient): Promise<boolean> {
        this.replacements++
        return super.replaceClient(current, next)
      }
    }
    const store = new ReadTogether()
    const { url, info } = await registered({ initialAccessTokens: [IAT], secretGraceSec: 600 }, { store })
    const rotate = { client_id: info.client_id, scope: 'read', rotate_client_secret: true }

    const answers = await Promise.all([
      manage(info.registration_client_uri, 'PUT', info.registration_access_token, rotate),
      manage(info.registration_client_uri, 'PUT', info.registration_access_token, rotate),
    ])

    expect(answers.map((answer) => answer.status)).toEqual([200, 200])
    const [first, second] = answers.map((answer) => answer.json.client_secret as string)
    expect(first).not.toBe(second)
    expect(store.replacements).toBe(3)
    // The later rotation is current; the earlier one is the previous secret, in its grace period.
    expect((await tokenWith(url, info.client_id, first as string)).status).toBe(200)
    expect((await tokenWith(url, info.client_id, second as string)).status).toBe(200)
  })

  it('a PUT does not bring back a client deleted between its read and its save: it answers 401', async () => {
    class DeletedMeanwhile extends MemoryServerStore {
      override async replaceClient(current: StoredClient, next: StoredClient): Promise<boolean> {
        await this.deleteClient(current.client_id)
        return super.replaceClient(current, next)
      }
    }
    const { url, info } = await registered(undefined, { store: new DeletedMeanwhile() })

    const answer = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
      scope: 'read',
      client_name: 'Renamed',
    })

    expectRefusedToken(answer, true)
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')
  })

  it('answers 503 temporarily_unavailable when every try of a PUT finds the client changed', async () => {
    class AlwaysChanged extends MemoryServerStore {
      override async replaceClient(): Promise<boolean> {
        return false
      }
    }
    const { info } = await registered(undefined, { store: new AlwaysChanged() })
    const answer = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
      scope: 'read',
    })
    expectOAuthError(answer, 503, 'temporarily_unavailable')
    expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('with secretGraceSec 0 the old secret stops at once', async () => {
    const { url, info } = await registered({ initialAccessTokens: [IAT], secretGraceSec: 0 })
    const answer = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
      rotate_client_secret: true,
    })
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')
    expect((await tokenWith(url, info.client_id, answer.json.client_secret)).status).toBe(200)
  })

  it('secretLifetimeSec: the secret expires at client_secret_expires_at; a rotation renews it', async () => {
    let nowMs = Date.now()
    const now = () => nowMs
    const { url, info } = await registered(
      { initialAccessTokens: [IAT], secretLifetimeSec: 3600 },
      { now, store: new MemoryServerStore({ now }) },
    )
    expect(info.client_secret_expires_at).toBe(Math.floor((nowMs + 3_600_000) / 1000))

    nowMs += 3_600_000
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')
    const read = await manage(info.registration_client_uri, 'GET', info.registration_access_token)
    expect(read.status).toBe(200)
    const rotated = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
      rotate_client_secret: true,
    })
    expect(rotated.json.client_secret_expires_at).toBe(Math.floor((nowMs + 3_600_000) / 1000))
    expect((await tokenWith(url, info.client_id, rotated.json.client_secret)).status).toBe(200)
    // An expired secret gets no grace period.
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')
  })

  it('PUT to private_key_jwt drops the secret; back to client_secret_basic issues a new one', async () => {
    const { url, info } = await registered()
    const { publicKey } = await generateKeyPair('ES256')
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }
    const toKeys = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
      token_endpoint_auth_method: 'private_key_jwt',
      jwks,
    })
    expect(toKeys.status).toBe(200)
    expect(toKeys.json.client_secret_expires_at).toBeUndefined()
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')

    const back = await manage(info.registration_client_uri, 'PUT', info.registration_access_token, {
      client_id: info.client_id,
    })
    expect(back.json.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect((await tokenWith(url, info.client_id, back.json.client_secret)).status).toBe(200)
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')
  })

  it('DELETE answers 204; the client then gets no token, and its URI answers 401', async () => {
    const { url, info } = await registered()
    const answer = await manage(info.registration_client_uri, 'DELETE', info.registration_access_token)
    expect(answer.status).toBe(204)
    expect(answer.text).toBe('')
    expectOAuthError(await tokenWith(url, info.client_id, info.client_secret), 401, 'invalid_client')
    expectRefusedToken(
      await manage(info.registration_client_uri, 'GET', info.registration_access_token),
      true,
    )
    expectRefusedToken(
      await manage(info.registration_client_uri, 'DELETE', info.registration_access_token),
      true,
    )
  })

  it('works through handle() as through listen()', async () => {
    const server = await createAuthorizationServer({
      issuer: 'https://as.example.test',
      clients: [SEED],
      registration: { open: true },
    })
    const created = await server.handle(
      new Request('https://as.example.test/register', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"scope":"read"}',
      }),
    )
    expect(created.status).toBe(201)
    const info = (await created.json()) as Record<string, string>
    expect(info.registration_client_uri).toBe(`https://as.example.test/register/${info.client_id}`)
    const deleted = await server.handle(
      new Request(info.registration_client_uri as string, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${info.registration_access_token}` },
      }),
    )
    expect(deleted.status).toBe(204)
  })
})

describe('registered mutual-TLS clients (RFC 8705)', () => {
  it('registers tls_client_auth and self_signed_tls_client_auth clients that authenticate by certificate', async () => {
    const pki = await testPki()
    const orders = await pki.client('C=DE, O=Example, CN=orders')
    const selfSigned = await issueCertificate({ subject: 'CN=self-signed orders', usage: 'client' })
    const issuer = 'https://as.example.test'
    const server = await createAuthorizationServer({
      issuer,
      clients: [SEED],
      mtls: { ca: pki.ca.pem },
      registration: { open: true },
    })
    const registerOver = async (metadata: Record<string, unknown>) => {
      const response = await server.handle(
        new Request(`${issuer}/register`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(metadata),
        }),
      )
      expect(response.status).toBe(201)
      return (await response.json()) as Record<string, string>
    }
    const tokenStatus = async (clientId: string, certificate: TestCertificate) => {
      const request = new Request(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `grant_type=client_credentials&client_id=${clientId}`,
      })
      return (await server.handle(request, { clientCertificate: certificate.pem })).status
    }

    const byDn = await registerOver({
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=orders,O=Example,C=DE',
    })
    const bySelfSigned = await registerOver({
      token_endpoint_auth_method: 'self_signed_tls_client_auth',
      jwks: { keys: [jwkWithX5c(selfSigned)] },
    })

    expect(byDn.client_secret).toBeUndefined()
    expect(await tokenStatus(byDn.client_id as string, orders)).toBe(200)
    expect(await tokenStatus(byDn.client_id as string, selfSigned)).toBe(401)
    expect(await tokenStatus(bySelfSigned.client_id as string, selfSigned)).toBe(200)
    expect(await tokenStatus(bySelfSigned.client_id as string, orders)).toBe(401)
  })
})
