import { connect } from 'node:net'
import { ConfigurationError } from '@oauth-m2m/core'
import { request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'
import type { RequestContext } from '../src/request-router.js'
import { startTestListener, type TestListener } from '../src/test-listener.js'

let listener: TestListener | undefined
afterEach(async () => {
  await listener?.close()
  listener = undefined
})

/** Sends raw bytes and returns everything the listener writes back until it closes. */
function rawExchange(url: string, bytes: string): Promise<string> {
  const { hostname, port } = new URL(url)
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(bytes))
    let text = ''
    socket.on('data', (chunk) => {
      text += chunk.toString()
    })
    socket.on('end', () => resolve(text))
    socket.on('error', reject)
  })
}

describe('startTestListener', () => {
  it.each(['0.0.0.0', '10.0.0.1', 'example.test', '::'])(
    'refuses to bind %s, which is not loopback',
    async (host) => {
      await expect(startTestListener(async () => new Response(null), { host })).rejects.toThrow(
        ConfigurationError,
      )
    },
  )

  it('hands the handler a web Request: its URL on the listener, method, headers, body and the peer address', async () => {
    let seen:
      | { url: string; method: string; headers: [string, string][]; body: string; context: RequestContext }
      | undefined
    listener = await startTestListener(async (req, context) => {
      seen = { url: req.url, method: req.method, headers: [...req.headers], body: await req.text(), context }
      return new Response('{"ok":true}', {
        status: 201,
        headers: { 'content-type': 'application/json', 'x-one': 'a' },
      })
    })
    expect(listener.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)

    const res = await request(`${listener.url}/token?x=1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        host: 'elsewhere.example',
        'x-repeat': ['1', '2'],
      },
      body: 'grant_type=client_credentials',
    })
    expect(res.statusCode).toBe(201)
    expect(res.headers['x-one']).toBe('a')
    expect(await res.body.json()).toEqual({ ok: true })
    // The Host header does not move the URL: the issuer stays the listener's.
    expect(seen?.url).toBe(`${listener.url}/token?x=1`)
    expect(seen?.method).toBe('POST')
    expect(seen?.body).toBe('grant_type=client_credentials')
    expect(seen?.headers).toContainEqual(['x-repeat', '1, 2'])
    expect(seen?.context.remoteAddress).toMatch(/127\.0\.0\.1$/)
  })

  it('reads a body only up to one byte past maxBodyBytes, and closes such a connection', async () => {
    let received = -1
    listener = await startTestListener(
      async (req) => {
        received = (await req.arrayBuffer()).byteLength
        return new Response('{"error":"invalid_request"}', { status: 413 })
      },
      { maxBodyBytes: 16 },
    )
    const res = await request(`${listener.url}/token`, { method: 'POST', body: 'x'.repeat(100_000) })
    expect(res.statusCode).toBe(413)
    expect(res.headers.connection).toBe('close')
    await res.body.dump()
    expect(received).toBe(17)
  })

  it('resets the connection for a Response.error()', async () => {
    listener = await startTestListener(async () => Response.error())
    const error = await request(`${listener.url}/jwks`).catch((e: unknown) => e)
    expect((error as { code?: string }).code).toMatch(/^(ECONNRESET|UND_ERR_SOCKET)$/)
  })

  it('answers 500 server_error when the handler rejects', async () => {
    listener = await startTestListener(async () => {
      throw new Error('bug')
    })
    const res = await request(`${listener.url}/jwks`)
    expect(res.statusCode).toBe(500)
    expect(await res.body.json()).toMatchObject({ error: 'server_error' })
  })

  it('refuses an absolute-form request target, which would name another host', async () => {
    let called = false
    listener = await startTestListener(async () => {
      called = true
      return new Response(null)
    })
    const answer = await rawExchange(
      listener.url,
      'GET http://elsewhere.example/jwks HTTP/1.1\r\nHost: elsewhere.example\r\nConnection: close\r\n\r\n',
    )
    expect(answer).toMatch(/^HTTP\/1\.1 400 /)
    expect(answer).toContain('invalid_request')
    expect(called).toBe(false)
  })

  it('sends no body for HEAD', async () => {
    listener = await startTestListener(
      async () => new Response('{"a":1}', { headers: { 'content-type': 'application/json' } }),
    )
    const res = await request(`${listener.url}/jwks`, { method: 'HEAD' })
    expect(res.statusCode).toBe(200)
    expect(await res.body.text()).toBe('')
  })

  it('aborts request.signal when the client goes away before its answer', async () => {
    let aborted: () => void = () => undefined
    const abortSeen = new Promise<void>((resolve) => {
      aborted = resolve
    })
    listener = await startTestListener(
      (req) =>
        new Promise<Response>((resolve) => {
          req.signal.addEventListener('abort', () => {
            aborted()
            resolve(new Response(null))
          })
        }),
    )
    const controller = new AbortController()
    const pending = request(`${listener.url}/token`, {
      method: 'POST',
      body: 'a=b',
      signal: controller.signal,
    })
    setTimeout(() => controller.abort(), 50)
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
    await abortSeen // resolves only if the handler saw the abort; the test's time limit otherwise
  })
})
