/**
 * A raw HTTP/1.1 request over loopback with node:http, so tests control every header line
 * (fetch would join two `Authorization` headers into one).
 */
import { request } from 'node:http'

/** What came back. */
export interface HttpAnswer {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: string
}

/** Sends a request; a header given as an array is sent as that many lines. */
export function httpCall(
  url: string,
  options: { method?: string; headers?: Record<string, string | string[]>; body?: string } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
        res.on('error', reject)
      },
    )
    req.setTimeout(10_000, () => req.destroy(new Error('test request timed out')))
    req.on('error', reject)
    req.end(options.body)
  })
}
