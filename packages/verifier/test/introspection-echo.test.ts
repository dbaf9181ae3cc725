/**
 * The no-leak promise on the introspection path: an introspection endpoint that echoes the
 * resource server's own credentials (in its content type, in an error body, in a malformed answer)
 * never gets them into what verify() throws or what the diagnostics channels publish.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { inspect } from 'node:util'
import { clientSecretBasic, clientSecretPost } from '@oauth-m2m/core'
import {
  createVerifier,
  INTROSPECTION_CHANNEL,
  REJECTION_CHANNEL,
  TemporarilyUnavailableError,
} from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const SECRET = 'introspection-secret-7f3a/+=~'
const TOKEN = 'b3BhcXVlLXRva2VuLWZvci1lY2hvLXRlc3RzLTEyMzQ1Njc4'

type Echo = (req: IncomingMessage, res: ServerResponse, body: string) => void
let echo: Echo
let server: Server
let endpoint: string

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', () => echo(req, res, body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/introspect`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

/** Everything a caller or a log could see of a failure, and of what the channels published. */
async function failureViews(auth: ReturnType<typeof clientSecretBasic>): Promise<string[]> {
  const published: unknown[] = []
  const listener = (message: unknown) => published.push(message)
  subscribe(INTROSPECTION_CHANNEL, listener)
  subscribe(REJECTION_CHANNEL, listener)
  const verifier = createVerifier({
    issuer: 'http://127.0.0.1/issuer',
    audience: 'https://api.example',
    introspection: { endpoint, clientId: 'api-b', auth, failureCooldownMs: 0 },
  })
  try {
    const error = await verifier.verify(TOKEN).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TemporarilyUnavailableError)
    return [
      (error as Error).message,
      inspect(error, { depth: 10, showHidden: true }),
      JSON.stringify(error),
      JSON.stringify(published),
    ]
  } finally {
    unsubscribe(INTROSPECTION_CHANNEL, listener)
    unsubscribe(REJECTION_CHANNEL, listener)
    await verifier.close()
  }
}

const echoes: Record<string, Echo> = {
  'in its content type': (req, res, body) =>
    res
      .writeHead(200, { 'content-type': `text/plain; echo="${req.headers.authorization ?? body}"` })
      .end('no'),
  'in an error body': (req, res, body) =>
    res.writeHead(401, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        error: 'invalid_client',
        error_description: `${req.headers.authorization} ${body}`,
      }),
    ),
  'in a 200 answer that is not an introspection answer': (req, res, body) =>
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ active: 'yes', echo: `${req.headers.authorization} ${body} ${SECRET}` })),
}

describe('introspection never lets its own credentials out, whatever the endpoint echoes', () => {
  for (const [where, reply] of Object.entries(echoes)) {
    for (const [method, auth] of [
      ['client_secret_basic', clientSecretBasic(SECRET)],
      ['client_secret_post', clientSecretPost(SECRET)],
    ] as const) {
      it(`${where}, with ${method}`, async () => {
        echo = reply
        for (const view of await failureViews(auth)) {
          expect(view).not.toContain(SECRET)
          expect(view).not.toContain(encodeURIComponent(SECRET))
          expect(view).not.toContain(
            Buffer.from(`api-b:${encodeURIComponent(SECRET)}`)
              .toString('base64')
              .slice(0, 24),
          )
          expect(view).not.toContain(TOKEN)
        }
      })
    }
  }
})
