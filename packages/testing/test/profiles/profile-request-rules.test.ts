/**
 * The providers' token-endpoint rules, in front of a stand-in for the server (`next`) that
 * records what it was handed and answers like the reference server: what each profile lets
 * through (rewritten), what it refuses in the provider's words, and how it reshapes answers.
 */
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'
import type {
  ProfileInterceptor,
  ProfileRuntime,
  ProviderProfile,
} from '../../src/profiles/provider-profile.js'
import { resolveProfile } from '../../src/profiles/resolve-profile.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const API_APP = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const NOW = Date.UTC(2024, 6, 1, 12, 30, 15)

const runtime: ProfileRuntime = {
  now: () => NOW,
  maxBodyBytes: 64 * 1024,
  registeredScopes: (clientId) =>
    clientId === 'pool-client'
      ? ['https://api.example.test/read', 'https://api.example.test/write']
      : undefined,
}

function profile(option: Parameters<typeof resolveProfile>[0]): ProviderProfile {
  const resolved = resolveProfile(option)
  if (resolved === undefined) throw new Error('expected a provider profile')
  return resolved
}

function interceptorOf(p: ProviderProfile): ProfileInterceptor {
  const interceptor = p.interceptor(runtime)
  if (interceptor === undefined) throw new Error('expected an interceptor')
  return interceptor
}

const SERVER_TOKEN_ANSWER = {
  access_token: 'eyJ.x.y',
  token_type: 'Bearer',
  expires_in: 3599,
  scope: 'read write',
}

/** A stand-in for the server: records the request's form and answers `answer`. */
function recordingServer(answer: {
  status: number
  body: Record<string, unknown>
  headers?: Record<string, string>
}) {
  const seen: { form?: URLSearchParams; contentType?: string | null; calls: number } = { calls: 0 }
  const next = async (request: Request): Promise<Response> => {
    seen.calls += 1
    seen.contentType = request.headers.get('content-type')
    seen.form = new URLSearchParams(await request.text())
    return new Response(JSON.stringify(answer.body), {
      status: answer.status,
      headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...answer.headers },
    })
  }
  return { seen, next }
}

function formPost(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Request {
  return new Request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams(params).toString(),
  })
}

describe('entra token endpoint rules', () => {
  const entra = profile({ name: 'entra', tenantId: TENANT, apiAppId: API_APP })
  const rules = interceptorOf(entra)
  const token = entra.endpoints.token

  it('maps scope={App ID URI}/.default to the API as resource, and answers without scope but with ext_expires_in', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(token, { grant_type: 'client_credentials', scope: `api://${API_APP}/.default` }),
      server.next,
    )
    expect(server.seen.form?.get('resource')).toBe(`api://${API_APP}`)
    expect(server.seen.form?.has('scope')).toBe(false)
    expect(answer.status).toBe(200)
    const body = (await answer.json()) as Record<string, string>
    expect(body).toEqual({
      access_token: 'eyJ.x.y',
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
    })
    expect(answer.headers.get('cache-control')).toBe('no-store')
  })

  it('accepts the API client id before /.default too', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    await rules(
      formPost(token, { grant_type: 'client_credentials', scope: `${API_APP}/.default` }),
      server.next,
    )
    expect(server.seen.form?.get('resource')).toBe(`api://${API_APP}`)
  })

  it('refuses a request without scope: 400 invalid_request AADSTS900144, in Entra’s error shape', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(formPost(token, { grant_type: 'client_credentials' }), server.next)
    expect(server.seen.calls).toBe(0)
    expect(answer.status).toBe(400)
    const body = (await answer.json()) as Record<string, string>
    expect(body).toMatchObject({
      error: 'invalid_request',
      error_codes: [900144],
      timestamp: '2024-07-01 12:30:15Z',
    })
    expect(body.error_description).toMatch(/^AADSTS900144: .*'scope'/)
    expect(body.error_description).toContain(`Trace ID: ${body.trace_id}`)
    expect(body.error_description).toContain(`Correlation ID: ${body.correlation_id}`)
    expect(body.trace_id).toMatch(/^[0-9a-f-]{36}$/)
  })

  it.each([
    ['a delegated scope', `api://${API_APP}/Orders.Read`],
    ['a bare resource', `api://${API_APP}`],
    ['scopes of two resources', `api://${API_APP}/.default https://graph.microsoft.com/.default`],
  ])('refuses %s: 400 invalid_scope AADSTS70011', async (_case, scope) => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(formPost(token, { grant_type: 'client_credentials', scope }), server.next)
    expect(server.seen.calls).toBe(0)
    expect(answer.status).toBe(400)
    const body = (await answer.json()) as Record<string, string>
    expect(body).toMatchObject({ error: 'invalid_scope', error_codes: [70011] })
    expect(body.error_description).toMatch(/^AADSTS70011: /)
  })

  it('refuses a resource the tenant does not have: 400 invalid_resource AADSTS500011', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(token, { grant_type: 'client_credentials', scope: 'api://someone-else/.default' }),
      server.next,
    )
    expect(answer.status).toBe(400)
    expect(await answer.json()).toMatchObject({ error: 'invalid_resource', error_codes: [500011] })
  })

  it('keeps what the client sent out of the description but for the error_description character set', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(token, { grant_type: 'client_credentials', scope: 'api://x"\\\u0007\u00e9/.default' }),
      server.next,
    )
    const body = (await answer.json()) as Record<string, string>
    const [message] = body.error_description!.split('\r\n')
    expect(message).toMatch(/^AADSTS500011: The resource principal named api:\/\/x' was not found/)
  })

  it("passes the server's refusals through unchanged, and leaves other endpoints alone", async () => {
    const refusal = { error: 'invalid_client', error_description: 'client authentication failed' }
    const server = recordingServer({ status: 401, body: refusal })
    const answer = await rules(
      formPost(token, { grant_type: 'client_credentials', scope: `api://${API_APP}/.default` }),
      server.next,
    )
    expect(answer.status).toBe(401)
    expect(await answer.json()).toEqual(refusal)
    const keys = recordingServer({ status: 200, body: { keys: [] } })
    await rules(new Request(entra.endpoints.jwks), keys.next)
    expect(keys.seen.calls).toBe(1)
  })
})

describe('auth0 token endpoint rules', () => {
  const auth0 = profile({ name: 'auth0', domain: 'acme.us.auth0.com', audience: 'https://api.acme.example' })
  const rules = interceptorOf(auth0)
  const token = auth0.endpoints.token

  it('maps audience to the API resource', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(token, {
        grant_type: 'client_credentials',
        audience: 'https://api.acme.example',
        scope: 'read',
      }),
      server.next,
    )
    expect(server.seen.form?.get('resource')).toBe('https://api.acme.example')
    expect(server.seen.form?.has('audience')).toBe(false)
    expect(server.seen.form?.get('scope')).toBe('read')
    // Auth0 answers with scope, as the server does.
    expect(await answer.json()).toEqual(SERVER_TOKEN_ANSWER)
  })

  it('reads a JSON body as the same parameters', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const request = new Request(token, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        grant_type: 'client_credentials',
        client_id: 'abc',
        client_secret: 's3cret',
        audience: 'https://api.acme.example',
      }),
    })
    await rules(request, server.next)
    expect(server.seen.contentType).toBe('application/x-www-form-urlencoded')
    expect(Object.fromEntries(server.seen.form ?? [])).toEqual({
      grant_type: 'client_credentials',
      client_id: 'abc',
      client_secret: 's3cret',
      resource: 'https://api.acme.example',
    })
  })

  it('refuses a request without audience: 403 access_denied, no default audience configured', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(formPost(token, { grant_type: 'client_credentials' }), server.next)
    expect(server.seen.calls).toBe(0)
    expect(answer.status).toBe(403)
    expect(await answer.json()).toEqual({
      error: 'access_denied',
      error_description: 'No audience parameter was provided, and no default audience has been configured',
    })
  })

  it("uses the tenant's default audience when one is configured", async () => {
    const rulesWithDefault = interceptorOf(
      profile({
        name: 'auth0',
        audience: 'https://api.acme.example',
        defaultAudience: 'https://api.acme.example',
      }),
    )
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    await rulesWithDefault(
      formPost(profile('auth0').endpoints.token, { grant_type: 'client_credentials' }),
      server.next,
    )
    expect(server.seen.form?.get('resource')).toBe('https://api.acme.example')
  })

  it('refuses an audience no API has: 403 access_denied Service not found', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(token, { grant_type: 'client_credentials', audience: 'https://other.example' }),
      server.next,
    )
    expect(answer.status).toBe(403)
    expect(await answer.json()).toEqual({
      error: 'access_denied',
      error_description: 'Service not found: https://other.example',
    })
  })

  it('refuses a JSON body that is no object of strings: 400 invalid_request', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      new Request(token, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2' }),
      server.next,
    )
    expect(answer.status).toBe(400)
    expect(((await answer.json()) as { error: string }).error).toBe('invalid_request')
    expect(server.seen.calls).toBe(0)
  })
})

describe('okta token endpoint rules', () => {
  const okta = profile('okta')
  const rules = interceptorOf(okta)
  const token = okta.endpoints.token

  it('refuses a request without scope: 400 invalid_scope, no default scopes', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(formPost(token, { grant_type: 'client_credentials' }), server.next)
    expect(server.seen.calls).toBe(0)
    expect(answer.status).toBe(400)
    expect(await answer.json()).toEqual({
      error: 'invalid_scope',
      error_description:
        "The authorization server resource does not have any configured default scopes, 'scope' must be provided.",
    })
  })

  it('refuses OpenID Connect scopes: 400 invalid_scope', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(token, { grant_type: 'client_credentials', scope: 'read openid' }),
      server.next,
    )
    expect(answer.status).toBe(400)
    expect(((await answer.json()) as { error: string }).error).toBe('invalid_scope')
    expect(server.seen.calls).toBe(0)
  })

  it('passes a request with custom scopes on, without resource (tokens are for the server’s audience)', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(token, { grant_type: 'client_credentials', scope: 'read', resource: 'https://x.example' }),
      server.next,
    )
    expect(server.seen.form?.get('scope')).toBe('read')
    expect(server.seen.form?.has('resource')).toBe(false)
    // Okta answers with access_token, token_type, expires_in and scope: as the server does.
    expect(await answer.json()).toEqual(SERVER_TOKEN_ANSWER)
  })
})

describe('keycloak token endpoint answers', () => {
  const kc = profile('keycloak')
  const rules = interceptorOf(kc)

  it('adds refresh_expires_in 0 and not-before-policy 0 to the answer', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(kc.endpoints.token, { grant_type: 'client_credentials' }),
      server.next,
    )
    expect(await answer.json()).toEqual({
      ...SERVER_TOKEN_ANSWER,
      refresh_expires_in: 0,
      'not-before-policy': 0,
    })
  })
})

describe('cognito token endpoint rules', () => {
  const cog = profile('cognito')
  const rules = interceptorOf(cog)
  const token = cog.endpoints.token
  const basic = { authorization: encodeBasicCredentials('pool-client', 'secret') }

  it('ignores requested scopes the client does not have, and answers without scope', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(
        token,
        {
          grant_type: 'client_credentials',
          scope: 'https://api.example.test/read https://api.example.test/admin',
        },
        basic,
      ),
      server.next,
    )
    expect(server.seen.form?.get('scope')).toBe('https://api.example.test/read')
    expect(await answer.json()).toEqual({ access_token: 'eyJ.x.y', token_type: 'Bearer', expires_in: 3599 })
  })

  it('refuses when no requested scope is the client’s: 400 {"error":"invalid_scope"}', async () => {
    const server = recordingServer({ status: 200, body: SERVER_TOKEN_ANSWER })
    const answer = await rules(
      formPost(token, { grant_type: 'client_credentials', scope: 'https://api.example.test/admin' }, basic),
      server.next,
    )
    expect(server.seen.calls).toBe(0)
    expect(answer.status).toBe(400)
    expect(await answer.json()).toEqual({ error: 'invalid_scope' })
  })

  it('answers refusals with 400 and error alone, as Cognito documents', async () => {
    const server = recordingServer({
      status: 401,
      body: { error: 'invalid_client', error_description: 'client authentication failed' },
      headers: { 'www-authenticate': 'Basic realm="x"' },
    })
    const answer = await rules(formPost(token, { grant_type: 'client_credentials' }, basic), server.next)
    expect(answer.status).toBe(400)
    expect(answer.headers.get('www-authenticate')).toBeNull()
    expect(await answer.json()).toEqual({ error: 'invalid_client' })
  })
})

describe('bodies a profile does not read', () => {
  it('hands a body over the read limit to the server untouched', async () => {
    const entra = profile({ name: 'entra', tenantId: TENANT })
    const server = recordingServer({ status: 413, body: { error: 'invalid_request' } })
    const huge = `grant_type=client_credentials&scope=${'a'.repeat(70 * 1024)}`
    const answer = await interceptorOf(entra)(
      new Request(entra.endpoints.token, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: huge,
      }),
      server.next,
    )
    expect(server.seen.calls).toBe(1)
    expect(server.seen.form?.get('scope')?.length).toBe(70 * 1024)
    expect(answer.status).toBe(413)
  })
})
