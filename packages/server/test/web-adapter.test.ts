import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createLocalJWKSet, jwtVerify } from 'jose'
import { describe, expect, it } from 'vitest'

const ISSUER = 'https://as.example.com'
const FORM = 'application/x-www-form-urlencoded'

async function webServer() {
  return createAuthorizationServer({
    issuer: ISSUER,
    clients: [{ client_id: 'svc', client_secret: 'svc-secret', scope: 'read' }],
  })
}

function tokenRequest(body: NonNullable<RequestInit['body']>, headers: Record<string, string> = {}): Request {
  return new Request(`${ISSUER}/token`, {
    method: 'POST',
    headers: { 'content-type': FORM, authorization: encodeBasicCredentials('svc', 'svc-secret'), ...headers },
    body,
    duplex: 'half',
  } as RequestInit)
}

describe('handle(Request): the web-standard adapter', () => {
  it('issues a token that verifies against the JWKS it serves', async () => {
    const server = await webServer()
    const response = await server.handle(tokenRequest('grant_type=client_credentials'))
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toBe('no-store')
    const { access_token } = (await response.json()) as { access_token: string }
    const jwks = await (await server.handle(new Request(`${ISSUER}/jwks`))).json()
    const { payload } = await jwtVerify(access_token, createLocalJWKSet(jwks as never), { issuer: ISSUER })
    expect(payload.client_id).toBe('svc')
  })

  it('answers errors exactly as the node:http adapter does', async () => {
    const server = await webServer()
    const response = await server.handle(new Request(`${ISSUER}/token`))
    expect(response.status).toBe(405)
    expect(response.headers.get('allow')).toBe('POST')
    const wrong = await server.handle(
      tokenRequest('grant_type=client_credentials', { authorization: encodeBasicCredentials('svc', 'nope') }),
    )
    expect(wrong.status).toBe(401)
    expect(wrong.headers.get('www-authenticate')).toMatch(/^Basic realm=/)
    expect(await wrong.json()).toMatchObject({ error: 'invalid_client' })
  })

  it('refuses an oversized streamed body with 413 without a Content-Length', async () => {
    const server = await webServer()
    const chunk = new TextEncoder().encode('a'.repeat(32 * 1024))
    let pulled = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++
        // An endless body: the adapter must stop reading on its own.
        controller.enqueue(chunk)
      },
    })
    const response = await server.handle(tokenRequest(body))
    expect(response.status).toBe(413)
    expect(response.headers.get('cache-control')).toBe('no-store')
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
    expect(pulled).toBeLessThan(10)
  })

  it('binds the issuer to the first request origin when none is configured', async () => {
    const server = await createAuthorizationServer({ clients: [] })
    const response = await server.handle(
      new Request('http://localhost:9999/.well-known/oauth-authorization-server'),
    )
    expect(((await response.json()) as { issuer: string }).issuer).toBe('http://localhost:9999')
    expect(server.issuer).toBe('http://localhost:9999')
  })

  it('answers HEAD on the metadata without a body', async () => {
    const server = await webServer()
    const response = await server.handle(
      new Request(`${ISSUER}/.well-known/oauth-authorization-server`, { method: 'HEAD' }),
    )
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('')
  })
})
