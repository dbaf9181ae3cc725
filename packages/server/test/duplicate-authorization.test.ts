/**
 * Two `Authorization` headers: Node keeps the first, a proxy may read the last, so the server and
 * the proxy could disagree on who is calling. Every endpoint that reads the header refuses them.
 */
import { connect } from 'node:net'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { describe, expect, it } from 'vitest'
import { FORM, postForm, startServer } from './test-server.js'

const CLIENTS = [
  { client_id: 'svc', client_secret: 'svc-secret', scope: 'read' },
  { client_id: 'other', client_secret: 'other-secret', scope: 'read' },
]

/** Sends `request` as is over a raw loopback socket and resolves to the status and JSON body. */
function rawExchange(url: string, request: string): Promise<{ status: number; json: unknown }> {
  const { port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.end(request))
    let answer = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('error', reject)
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1])
      const body = answer.slice(answer.indexOf('\r\n\r\n') + 4)
      let json: unknown
      try {
        json = JSON.parse(body)
      } catch {
        json = undefined
      }
      resolve({ status, json })
    })
  })
}

function withTwoAuthorizations(path: string, body: string): string {
  return (
    `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n` +
    `Authorization: ${encodeBasicCredentials('svc', 'svc-secret')}\r\n` +
    `Authorization: ${encodeBasicCredentials('other', 'other-secret')}\r\n` +
    `Content-Type: ${FORM}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  )
}

describe('two Authorization headers', () => {
  it.each([
    ['/token', () => 'grant_type=client_credentials'],
    ['/introspect', (token: string) => `token=${token}`],
    ['/revoke', (token: string) => `token=${token}`],
  ])('answers %s with 400 invalid_request over real HTTP', async (path, body) => {
    const { url } = await startServer({ clients: CLIENTS })
    const issued = await postForm(`${url}/token`, 'grant_type=client_credentials', {
      authorization: encodeBasicCredentials('svc', 'svc-secret'),
    })
    expect(issued.status).toBe(200)

    const answer = await rawExchange(url, withTwoAuthorizations(path, body(issued.json.access_token)))

    expect(answer.status).toBe(400)
    expect(answer.json).toMatchObject({ error: 'invalid_request' })
  })

  it('answers a web Request whose Authorization headers were joined with 400 invalid_request', async () => {
    const server = await createAuthorizationServer({ issuer: 'https://as.example.com', clients: CLIENTS })
    const headers = new Headers({ 'content-type': FORM })
    headers.append('authorization', encodeBasicCredentials('svc', 'svc-secret'))
    headers.append('authorization', encodeBasicCredentials('other', 'other-secret'))
    const response = await server.handle(
      new Request('https://as.example.com/token', {
        method: 'POST',
        headers,
        body: 'grant_type=client_credentials',
      }),
    )
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ error: 'invalid_request' })
  })

  it('still accepts one Authorization header', async () => {
    const { url } = await startServer({ clients: CLIENTS })
    const request = withTwoAuthorizations('/token', 'grant_type=client_credentials').replace(
      /Authorization: [^\r]*\r\n(?=Content-Type)/,
      '',
    )
    expect((await rawExchange(url, request)).status).toBe(200)
  })
})
