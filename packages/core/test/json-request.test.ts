import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { type AddressInfo, createServer as createNetServer } from 'node:net'
import { inspect } from 'node:util'
import { HttpError, NetworkError, TimeoutError } from '@oauth-m2m/core'
import { createRedactor, requestJson } from '@oauth-m2m/core/internal'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

type Responder = (req: IncomingMessage, res: ServerResponse, body: string) => void

interface TestServer {
  url: string
  respond: Responder
  close(): Promise<void>
}

async function startServer(): Promise<TestServer> {
  const state: TestServer = { url: '', respond: (_req, res) => res.end(), close: async () => {} }
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => state.respond(req, res, Buffer.concat(chunks).toString()))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/resource`
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return state
}

let server: TestServer

beforeEach(async () => {
  server = await startServer()
})

afterEach(async () => {
  await server.close()
})

const jsonHeaders = { 'content-type': 'application/json' }

describe('requestJson: successful exchanges', () => {
  it('GETs with accept: application/json and parses the answer', async () => {
    let seen: IncomingMessage | undefined
    server.respond = (req, res) => {
      seen = req
      res.writeHead(200, jsonHeaders).end('{"ok":true}')
    }
    const res = await requestJson(server.url)
    expect(res).toMatchObject({ status: 200, body: { ok: true }, retryAfterMs: undefined })
    expect(seen?.method).toBe('GET')
    expect(seen?.headers.accept).toBe('application/json')
  })

  it('POSTs a body with the given headers', async () => {
    let received: { method?: string; type?: string; body: string } | undefined
    server.respond = (req, res, body) => {
      received = { method: req.method, type: req.headers['content-type'], body }
      res.writeHead(200, jsonHeaders).end('{}')
    }
    await requestJson(server.url, {
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials',
    })
    expect(received).toEqual({
      method: 'POST',
      type: 'application/x-www-form-urlencoded',
      body: 'grant_type=client_credentials',
    })
  })

  it('returns error statuses with their JSON body and Retry-After', async () => {
    server.respond = (_req, res) =>
      res.writeHead(429, { ...jsonHeaders, 'retry-after': '3' }).end('{"error":"slow_down"}')
    const res = await requestJson(server.url)
    expect(res).toMatchObject({ status: 429, body: { error: 'slow_down' }, retryAfterMs: 3000 })
  })

  it.each(['application/json; charset=utf-8', 'application/problem+json', 'Application/JSON'])(
    'accepts content type %s',
    async (contentType) => {
      server.respond = (_req, res) => res.writeHead(200, { 'content-type': contentType }).end('[1]')
      expect((await requestJson(server.url)).body).toEqual([1])
    },
  )
})

describe('requestJson: bodies that are not the JSON expected', () => {
  it.each([
    ['HTML', 'text/html', '<html></html>', /content type text\/html, not JSON/],
    ['no content type', undefined, '{}', /content type \(none\), not JSON/],
    ['malformed JSON', 'application/json', '{"a":', /malformed JSON/],
    ['an empty body', 'application/json', '', /malformed JSON/],
  ])('refuses %s with HttpError carrying the status', async (_case, contentType, body, message) => {
    server.respond = (_req, res) => {
      if (contentType) res.setHeader('content-type', contentType)
      res.writeHead(502).end(body)
    }
    const err = await requestJson(server.url, { purpose: 'token endpoint' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpError)
    expect(err).toMatchObject({ code: 'ERR_HTTP', status: 502 })
    expect((err as Error).message).toMatch(/^token endpoint answered 502 with /)
    expect((err as Error).message).toMatch(message)
  })

  it('never copies the body into the error', async () => {
    server.respond = (_req, res) => res.writeHead(200, jsonHeaders).end('{"access_token":"SECRET-TOKEN"')
    const err = await requestJson(server.url).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpError)
    expect(JSON.stringify(err)).not.toContain('SECRET-TOKEN')
    expect(String(err)).not.toContain('SECRET-TOKEN')
  })

  it('refuses a body whose declared length is over maxBodyBytes', async () => {
    server.respond = (_req, res) =>
      res.writeHead(200, { ...jsonHeaders, 'content-length': '2000' }).end(`"${'x'.repeat(1998)}"`)
    const err = await requestJson(server.url, { maxBodyBytes: 1000 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpError)
    expect((err as Error).message).toMatch(/larger than 1000 bytes/)
  })

  it('stops reading a chunked body once it passes maxBodyBytes', async () => {
    let written = 0
    server.respond = (_req, res) => {
      res.writeHead(200, jsonHeaders)
      // An endless body: only the cap can end this exchange.
      const pump = () => {
        while (written < 10_000_000 && res.write('x'.repeat(1024))) written += 1024
        if (written < 10_000_000 && !res.destroyed) res.once('drain', pump)
      }
      pump()
    }
    const err = await requestJson(server.url, { maxBodyBytes: 64 * 1024 }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(HttpError)
    expect((err as Error).message).toMatch(/larger than 65536 bytes/)
    expect(written).toBeLessThan(10_000_000)
  })
})

describe('requestJson: transport failures', () => {
  it('times out when the headers never come', async () => {
    server.respond = () => {}
    const err = await requestJson(server.url, { timeoutMs: 100, purpose: 'JWKS endpoint' }).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(TimeoutError)
    expect(err).toMatchObject({
      code: 'ERR_TIMEOUT',
      timeoutMs: 100,
      message: 'JWKS endpoint did not answer within 100 ms',
    })
  })

  it('accepts a computed, fractional time budget (rounded up to whole milliseconds)', async () => {
    server.respond = () => {}
    const err = await requestJson(server.url, { timeoutMs: 50.4 }).catch((e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_TIMEOUT', timeoutMs: 51 })
  })

  it('times out when the body stalls after the headers', async () => {
    server.respond = (_req, res) => {
      res.writeHead(200, jsonHeaders)
      res.write('{"partial":')
    }
    await expect(requestJson(server.url, { timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError)
  })

  it('throws the signal’s reason when the caller aborts', async () => {
    server.respond = () => {}
    const controller = new AbortController()
    const pending = requestJson(server.url, { signal: controller.signal })
    const reason = new Error('shutting down')
    setImmediate(() => controller.abort(reason))
    await expect(pending).rejects.toBe(reason)
  })

  it('throws the reason of an already aborted signal', async () => {
    const reason = new Error('too late')
    await expect(requestJson(server.url, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
  })

  it('reports a refused connection as NetworkError with the cause', async () => {
    const url = server.url
    await server.close()
    const err = await requestJson(url, { purpose: 'token endpoint' }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(NetworkError)
    expect((err as Error).message).toMatch(/^request to token endpoint failed/)
    expect((err as Error).cause).toMatchObject({ code: 'ECONNREFUSED' })
    server = await startServer()
  })

  it('keeps no raw response bytes in the cause of a malformed answer, which may echo a credential', async () => {
    const echoed = 'echoed-secret-4f1d2a'
    const raw = createNetServer((socket) => {
      socket.once('data', () => {
        // An invalid header byte makes undici's parser fail; it keeps the rest of the answer in `data`.
        socket.end(`HTTP/1.1 200 OK\r\nX-Bad: \x01\r\nX-Echo: ${echoed}\r\nContent-Length: 2\r\n\r\n{}`)
      })
    })
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve))
    try {
      const url = `http://127.0.0.1:${(raw.address() as AddressInfo).port}/`
      const err = await requestJson(url, { redactor: createRedactor(['unused']) }).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(NetworkError)
      expect((err as Error).cause).toMatchObject({ name: 'HTTPParserError' })
      expect((err as Error).cause).not.toHaveProperty('data')
      for (const view of [inspect(err, { depth: 10, showHidden: true }), JSON.stringify(err)]) {
        expect(view).not.toContain(echoed)
      }
    } finally {
      await new Promise<void>((resolve) => raw.close(() => resolve()))
    }
  })

  it('reports a connection reset mid-body as NetworkError', async () => {
    server.respond = (_req, res) => {
      res.writeHead(200, jsonHeaders)
      res.write('{"partial":', () => res.socket?.destroy())
    }
    await expect(requestJson(server.url)).rejects.toBeInstanceOf(NetworkError)
  })
})
