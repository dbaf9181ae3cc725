/**
 * Slow clients over a raw loopback socket: a request that trickles in must not hold its socket for
 * Node's default five minutes.
 */
import { connect } from 'node:net'
import { describe, expect, it } from 'vitest'
import { startServer } from './test-server.js'

/** What the server did to a connection that sent its request one piece at a time. */
interface TrickleOutcome {
  /** Everything the server wrote back. */
  answer: string
  /** Whether the server closed the connection before the client had sent every piece. */
  closedEarly: boolean
  /** How many pieces had been sent when the exchange ended. */
  piecesSent: number
}

/**
 * Sends `head`, then one of `pieces` every `intervalMs`, until the server closes the socket or the
 * pieces run out (then waits `graceMs` for a late answer). Bounded by `pieces.length`.
 */
function trickle(url: string, head: string, pieces: string[], intervalMs = 20, graceMs = 300) {
  const { port } = new URL(url)
  return new Promise<TrickleOutcome>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1')
    let answer = ''
    let piecesSent = 0
    let timer: NodeJS.Timeout | undefined
    const finish = (closedEarly: boolean): void => {
      clearInterval(timer)
      socket.destroy()
      resolve({ answer, closedEarly, piecesSent })
    }
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      answer += chunk
    })
    socket.on('error', reject)
    socket.on('close', () => finish(piecesSent < pieces.length))
    socket.on('connect', () => {
      socket.write(head)
      timer = setInterval(() => {
        if (piecesSent === pieces.length) {
          clearInterval(timer)
          setTimeout(() => finish(false), graceMs)
          return
        }
        if (!socket.writable) return
        socket.write(pieces[piecesSent++]!)
      }, intervalMs)
    })
  })
}

const CLIENTS = [
  {
    client_id: 'svc',
    client_secret: 'svc-secret',
    token_endpoint_auth_method: 'client_secret_post' as const,
  },
]

describe('slow requests (headers and request time-outs)', () => {
  it('answers 408 and closes the socket when a /token body trickles in past requestTimeoutMs', async () => {
    const { url } = await startServer({ clients: CLIENTS, requestTimeoutMs: 300, headersTimeoutMs: 200 })
    const body = 'grant_type=client_credentials&client_id=svc&client_secret=svc-secret'.padEnd(200, '&')
    const head =
      'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${body.length}\r\n\r\n`
    // One byte every 20 ms: 4 s for the whole body, far past the configured 300 ms.
    const outcome = await trickle(url, head, [...body])

    expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(outcome.closedEarly).toBe(true)
    expect(outcome.piecesSent).toBeLessThan(body.length)
  })

  it('answers 408 and closes the socket when the headers trickle in past headersTimeoutMs', async () => {
    const { url } = await startServer({ clients: CLIENTS, requestTimeoutMs: 300, headersTimeoutMs: 200 })
    const headerLines = Array.from({ length: 200 }, (_, i) => `X-Slow-${i}: 1\r\n`)
    const outcome = await trickle(url, 'POST /token HTTP/1.1\r\nHost: 127.0.0.1\r\n', headerLines)

    expect(outcome.answer).toMatch(/^HTTP\/1\.1 408 /)
    expect(outcome.closedEarly).toBe(true)
  })

  it('still serves a request that arrives within the time-outs', async () => {
    const { url } = await startServer({ clients: CLIENTS, requestTimeoutMs: 2000, headersTimeoutMs: 1000 })
    const res = await fetch(`${url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&client_id=svc&client_secret=svc-secret',
    })
    expect(res.status).toBe(200)
  })
})
