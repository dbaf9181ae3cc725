import { describe } from 'vitest'
import { bearerConformance, COMMON_REPLAYABLE_BODIES, type EntryPoint } from './bearer-conformance.js'

/** `client.fetch`, with every body undici's `fetch` takes and can send again. */
const clientFetch: EntryPoint = {
  async send(client, _dispatcher, url, { method, headers, body, signal } = {}) {
    const res = await client.fetch(url, {
      ...(method ? { method } : {}),
      ...(headers ? { headers } : {}),
      ...(body !== undefined ? { body: body as string } : {}),
      ...(body instanceof ReadableStream ? { duplex: 'half' as const } : {}),
      ...(signal ? { signal } : {}),
    })
    await res.arrayBuffer()
    return res.status
  },
  streamBody: (text) =>
    new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text))
        controller.close()
      },
    }),
  replayableBodies: [
    ...COMMON_REPLAYABLE_BODIES,
    ['a string', () => 'hello', 'hello'],
    ['URLSearchParams', () => new URLSearchParams({ a: '1' }), 'a=1'],
  ],
}

describe('client.fetch', () => {
  bearerConformance(clientFetch)
})
