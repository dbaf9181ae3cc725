/**
 * The one HTTP token request both start-up fixtures send: client_credentials with
 * client_secret_basic over node:http, so neither side pays for a different HTTP client.
 * (oauth2-mock-server ignores the credentials; oauth-m2m checks them.)
 */
import { request } from 'node:http'

/**
 * POSTs a client_credentials request to `tokenEndpoint` and resolves with the access token.
 * @param {string} tokenEndpoint
 * @param {{ clientId: string, clientSecret: string, scope: string }} client
 * @returns {Promise<string>}
 */
export function requestToken(tokenEndpoint, { clientId, clientSecret, scope }) {
  const body = new URLSearchParams({ grant_type: 'client_credentials', scope }).toString()
  // Both ids and secrets here are letters, digits, '-' and '_', which the form-urlencoding of
  // RFC 6749 §2.3.1 leaves as they are.
  const basic = Buffer.from(`${clientId}:${clientSecret}`).toString('base64')
  return new Promise((resolve, reject) => {
    const req = request(
      tokenEndpoint,
      {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
          'content-length': Buffer.byteLength(body),
        },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk) => {
          text += chunk
        })
        res.on('end', () => {
          if (res.statusCode !== 200) {
            reject(new Error(`POST ${tokenEndpoint} answered ${res.statusCode}`))
            return
          }
          const token = JSON.parse(text).access_token
          if (typeof token !== 'string' || token.split('.').length !== 3) {
            reject(new Error(`POST ${tokenEndpoint} did not answer with a JWT access token`))
            return
          }
          resolve(token)
        })
        res.on('error', reject)
      },
    )
    req.on('error', reject)
    req.end(body)
  })
}

/**
 * Prints the fixture's one result line. Times are `performance.now()`: milliseconds since this
 * process's `performance.timeOrigin`, which Node sets when the process starts.
 * @param {Record<string, unknown>} result
 */
export function report(result) {
  process.stdout.write(`${JSON.stringify(result)}\n`)
}

/**
 * The token mode asked for on the command line: `api` (the library's own minting call) or
 * `http` (a client_credentials request to the token endpoint).
 * @returns {'api' | 'http'}
 */
export function tokenMode() {
  const mode = process.argv[2]
  if (mode !== 'api' && mode !== 'http') throw new Error('usage: node <fixture> api|http')
  return mode
}
