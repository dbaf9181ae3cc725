import { Readable } from 'node:stream'
import { createMswDispatcher, UnhandledRequestError } from '@oauth-m2m/testing/msw'
import { delay, HttpResponse, http, type RequestHandler } from 'msw'
import { type Dispatcher, errors, FormData, fetch, Headers, request } from 'undici'
import { afterEach, describe, expect, it } from 'vitest'

const base = 'https://api.test'

/** Answers with what the handler saw, so tests can check the request round-trip. */
const echo = http.all(`${base}/echo`, async ({ request: req }) => {
  const body = req.method === 'GET' || req.method === 'HEAD' ? '' : await req.text()
  return HttpResponse.json({
    method: req.method,
    url: req.url,
    headers: Object.fromEntries(req.headers),
    contentType: req.headers.get('content-type'),
    body,
  })
})

const dispatchers: ReturnType<typeof createMswDispatcher>[] = []
function dispatcherFor(handlers: Parameters<typeof createMswDispatcher>[0]) {
  const dispatcher = createMswDispatcher(handlers)
  dispatchers.push(dispatcher)
  return dispatcher
}

afterEach(async () => {
  await Promise.all(dispatchers.splice(0).map((d) => d.close()))
})

interface Echo {
  method: string
  url: string
  headers: Record<string, string>
  contentType: string | null
  body: string
}

describe('undici.request through msw handlers', () => {
  it('sends a GET with its full URL, query and headers', async () => {
    const dispatcher = dispatcherFor([echo])
    const res = await request(`${base}/echo?a=1`, {
      dispatcher,
      query: { b: 'two' },
      headers: { 'x-one': '1', 'x-many': ['a', 'b'] },
    })
    const seen = (await res.body.json()) as Echo
    expect(res.statusCode).toBe(200)
    expect(seen.method).toBe('GET')
    expect(seen.url).toBe(`${base}/echo?a=1&b=two`)
    expect(seen.headers['x-one']).toBe('1')
    expect(seen.headers['x-many']).toBe('a, b')
  })

  type HeaderShape = NonNullable<Dispatcher.DispatchOptions['headers']>
  it.each<[string, HeaderShape]>([
    ['a flat array', ['x-a', '1', 'x-b', '2', 'x-b', '3']],
    [
      'an array of pairs',
      [
        ['x-a', '1'],
        ['x-b', '2'],
        ['x-b', '3'],
      ],
    ],
    [
      'a Map',
      new Map<string, string | string[]>([
        ['x-a', '1'],
        ['x-b', ['2', '3']],
      ]),
    ],
  ])('accepts request headers given as %s', async (_shape, headers) => {
    const dispatcher = dispatcherFor([echo])
    const res = await request(`${base}/echo`, { dispatcher, headers })
    const seen = (await res.body.json()) as Echo
    expect(seen.headers['x-a']).toBe('1')
    expect(seen.headers['x-b']).toBe('2, 3')
  })

  // undici accepts any async iterable of chunks at run time (undici.fetch sends one), though its
  // types only name Readable.
  it.each<[string, () => string | Uint8Array | Readable | AsyncIterable<unknown>, string]>([
    ['a string', () => 'grant_type=client_credentials', 'grant_type=client_credentials'],
    ['a Buffer', () => Buffer.from('bytes-body'), 'bytes-body'],
    ['a Uint8Array', () => new TextEncoder().encode('typed-array'), 'typed-array'],
    ['a Node stream', () => Readable.from(['str', 'eam']), 'stream'],
    [
      'an async iterable',
      () =>
        (async function* () {
          yield Buffer.from('async-')
          yield 'iterable'
        })(),
      'async-iterable',
    ],
  ])('sends a POST body given as %s', async (_kind, makeBody, expected) => {
    const dispatcher = dispatcherFor([echo])
    const res = await request(`${base}/echo`, {
      dispatcher,
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: makeBody() as string | Uint8Array | Readable,
    })
    const seen = (await res.body.json()) as Echo
    expect(seen.method).toBe('POST')
    expect(seen.body).toBe(expected)
    expect(seen.contentType).toBe('text/plain')
  })

  it('sends a FormData body as multipart', async () => {
    const dispatcher = dispatcherFor([
      http.post(`${base}/form`, async ({ request: req }) => {
        const form = await req.formData()
        const file = form.get('file') as File
        return HttpResponse.json({
          field: form.get('field'),
          file: { name: file.name, text: await file.text() },
          type: req.headers.get('content-type'),
        })
      }),
    ])
    const form = new FormData()
    form.set('field', 'value')
    form.set('file', new Blob(['file contents']), 'a.txt')
    const res = await request(`${base}/form`, { dispatcher, method: 'POST', body: form })
    const seen = (await res.body.json()) as { field: string; file: object; type: string }
    expect(seen.field).toBe('value')
    expect(seen.file).toEqual({ name: 'a.txt', text: 'file contents' })
    expect(seen.type).toMatch(/^multipart\/form-data; boundary=/)
  })

  it('sends a POST without a body', async () => {
    const dispatcher = dispatcherFor([echo])
    const res = await request(`${base}/echo`, { dispatcher, method: 'POST' })
    expect(((await res.body.json()) as Echo).body).toBe('')
  })

  it('replays status, headers (multi-valued set-cookie too) and body', async () => {
    const dispatcher = dispatcherFor([
      http.get(`${base}/teapot`, () => {
        const headers = new Headers({ 'content-type': 'text/plain', 'retry-after': '7' })
        headers.append('set-cookie', 'a=1')
        headers.append('set-cookie', 'b=2')
        return new HttpResponse('short and stout', { status: 418, headers })
      }),
    ])
    const res = await request(`${base}/teapot`, { dispatcher })
    expect(res.statusCode).toBe(418)
    expect(res.headers['content-type']).toBe('text/plain')
    expect(res.headers['retry-after']).toBe('7')
    expect(res.headers['set-cookie']).toEqual(['a=1', 'b=2'])
    expect(await res.body.text()).toBe('short and stout')
  })

  it('answers HEAD without a body', async () => {
    const dispatcher = dispatcherFor([http.head(`${base}/h`, () => new HttpResponse(null, { status: 204 }))])
    const res = await request(`${base}/h`, { dispatcher, method: 'HEAD' })
    expect(res.statusCode).toBe(204)
    expect(await res.body.text()).toBe('')
  })

  it('turns HttpResponse.error() into a network error', async () => {
    const dispatcher = dispatcherFor([http.get(`${base}/down`, () => HttpResponse.error())])
    const err = await request(`${base}/down`, { dispatcher }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(errors.SocketError)
    expect(err).toMatchObject({ code: 'UND_ERR_SOCKET' })
  })

  it('fails a request no handler answers, naming method and URL', async () => {
    const dispatcher = dispatcherFor([echo])
    const err = await request(`${base}/nowhere?x=1`, { dispatcher, method: 'DELETE' }).catch(
      (e: unknown) => e,
    )
    expect(err).toBeInstanceOf(UnhandledRequestError)
    expect(err).toMatchObject({
      code: 'ERR_MSW_UNHANDLED_REQUEST',
      method: 'DELETE',
      url: `${base}/nowhere?x=1`,
      message: `no msw handler answered DELETE ${base}/nowhere?x=1`,
    })
  })

  it('fails the request with the error a handler throws', async () => {
    const boom = new Error('handler exploded')
    const dispatcher = dispatcherFor([
      http.get(`${base}/boom`, () => {
        throw boom
      }),
    ])
    await expect(request(`${base}/boom`, { dispatcher })).rejects.toBe(boom)
  })

  it('refuses a GET with a body, which a web Request cannot carry', async () => {
    const dispatcher = dispatcherFor([echo])
    await expect(request(`${base}/echo`, { dispatcher, method: 'GET', body: 'x' })).rejects.toThrow(
      /GET request with a body/,
    )
  })

  it('aborts a delayed response as soon as the caller’s signal fires', async () => {
    let handlerStarted!: () => void
    const started = new Promise<void>((resolve) => {
      handlerStarted = resolve
    })
    const dispatcher = dispatcherFor([
      http.get(`${base}/slow`, async () => {
        handlerStarted()
        await delay('infinite')
        return HttpResponse.text('too late')
      }),
    ])
    const controller = new AbortController()
    const pending = request(`${base}/slow`, { dispatcher, signal: controller.signal })
    await started
    const reason = new Error('caller gave up')
    controller.abort(reason)
    await expect(pending).rejects.toBe(reason)
  })

  it('aborts while the response body is still streaming', async () => {
    const dispatcher = dispatcherFor([
      http.get(`${base}/drip`, () => {
        const stream = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new TextEncoder().encode('first'))
            // never closes: only an abort ends this exchange
          },
        })
        return new HttpResponse(stream)
      }),
    ])
    const controller = new AbortController()
    const res = await request(`${base}/drip`, { dispatcher, signal: controller.signal })
    const iterator = (res.body as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
    expect(String((await iterator.next()).value)).toBe('first')
    controller.abort(new Error('stop'))
    await expect(iterator.next()).rejects.toThrow('stop')
  })

  it('delivers a streamed body chunk by chunk', async () => {
    const parts = ['alpha', 'beta', 'gamma']
    const dispatcher = dispatcherFor([
      http.get(`${base}/stream`, () => {
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            for (const part of parts) {
              controller.enqueue(new TextEncoder().encode(part))
              await delay(5)
            }
            controller.close()
          },
        })
        return new HttpResponse(stream, { headers: { 'content-type': 'text/plain' } })
      }),
    ])
    const res = await request(`${base}/stream`, { dispatcher })
    const received: string[] = []
    for await (const chunk of res.body as AsyncIterable<Buffer>) received.push(chunk.toString())
    expect(received).toEqual(parts)
  })

  it('passes a stream error mid-body on as a failed body', async () => {
    const dispatcher = dispatcherFor([
      http.get(`${base}/cut`, () => {
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode('{"partial":'))
            await delay(5)
            controller.error(new Error('connection reset'))
          },
        })
        return new HttpResponse(stream, { headers: { 'content-type': 'application/json' } })
      }),
    ])
    const res = await request(`${base}/cut`, { dispatcher })
    await expect(res.body.text()).rejects.toThrow('connection reset')
  })

  it('reads handlers from a function on every request, like server.use', async () => {
    let current: RequestHandler[] = [http.get(`${base}/v`, () => HttpResponse.text('one'))]
    const dispatcher = dispatcherFor(() => current)
    expect(await (await request(`${base}/v`, { dispatcher })).body.text()).toBe('one')
    current = [http.get(`${base}/v`, () => HttpResponse.text('two'))]
    expect(await (await request(`${base}/v`, { dispatcher })).body.text()).toBe('two')
  })
})

describe('undici.fetch through msw handlers', () => {
  it('round-trips method, headers and a JSON body', async () => {
    const dispatcher = dispatcherFor([echo])
    const headers = new Headers({ 'content-type': 'application/json' })
    headers.append('x-many', 'a')
    headers.append('x-many', 'b')
    const res = await fetch(`${base}/echo`, {
      dispatcher,
      method: 'PUT',
      headers,
      body: JSON.stringify({ hello: 'world' }),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('application/json')
    const seen = (await res.json()) as Echo
    expect(seen.method).toBe('PUT')
    expect(seen.headers['x-many']).toBe('a, b')
    expect(JSON.parse(seen.body)).toEqual({ hello: 'world' })
  })

  it('sends URLSearchParams as a form body', async () => {
    const dispatcher = dispatcherFor([echo])
    const res = await fetch(`${base}/echo`, {
      dispatcher,
      method: 'POST',
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'a b' }),
    })
    const seen = (await res.json()) as Echo
    expect(seen.contentType).toBe('application/x-www-form-urlencoded;charset=UTF-8')
    expect(seen.body).toBe('grant_type=client_credentials&scope=a+b')
  })

  it('replays status text and a streamed body', async () => {
    const dispatcher = dispatcherFor([
      http.get(`${base}/stream`, () => {
        const stream = new ReadableStream<Uint8Array>({
          async start(controller) {
            controller.enqueue(new TextEncoder().encode('one,'))
            await delay(5)
            controller.enqueue(new TextEncoder().encode('two'))
            controller.close()
          },
        })
        return new HttpResponse(stream, { status: 503, statusText: 'Busy' })
      }),
    ])
    const res = await fetch(`${base}/stream`, { dispatcher })
    expect(res.status).toBe(503)
    expect(res.statusText).toBe('Busy')
    expect(await res.text()).toBe('one,two')
  })

  it('turns HttpResponse.error() into TypeError: fetch failed', async () => {
    const dispatcher = dispatcherFor([http.get(`${base}/down`, () => HttpResponse.error())])
    const err = await fetch(`${base}/down`, { dispatcher }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TypeError)
    expect((err as TypeError).cause).toBeInstanceOf(errors.SocketError)
  })

  it('fails a request no handler answers', async () => {
    const dispatcher = dispatcherFor([])
    const err = await fetch(`${base}/missing`, { dispatcher }).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(TypeError)
    expect((err as TypeError).cause).toBeInstanceOf(UnhandledRequestError)
    expect(String((err as TypeError & { cause: Error }).cause.message)).toBe(
      `no msw handler answered GET ${base}/missing`,
    )
  })

  it('aborts a delayed response when the signal fires', async () => {
    let handlerStarted!: () => void
    const started = new Promise<void>((resolve) => {
      handlerStarted = resolve
    })
    const dispatcher = dispatcherFor([
      http.get(`${base}/slow`, async () => {
        handlerStarted()
        await delay('infinite')
        return HttpResponse.text('too late')
      }),
    ])
    const controller = new AbortController()
    const pending = fetch(`${base}/slow`, { dispatcher, signal: controller.signal })
    await started
    controller.abort()
    await expect(pending).rejects.toMatchObject({ name: 'AbortError' })
  })
})
