import { describe } from 'vitest'
import { dpopConformance, type EntryPoint } from './dpop-conformance.js'

/** `client.fetch`. */
const clientFetch: EntryPoint = {
  async send(client, _dispatcher, url, { method, headers, body } = {}) {
    const res = await client.fetch(url, {
      ...(method ? { method } : {}),
      ...(headers ? { headers } : {}),
      ...(body !== undefined ? { body: body as string } : {}),
      ...(body instanceof ReadableStream ? { duplex: 'half' as const } : {}),
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
  // fetch upper-cases the standard methods only; PATCH goes as given.
  wireMethod: (method) => method,
}

describe('client.fetch with DPoP', () => {
  dpopConformance(clientFetch)
})
