/**
 * Reading a resource server's `WWW-Authenticate` answer (RFC 9110 §11.6.1, RFC 6750 §3, RFC 9449
 * §7.1) just enough to tell the two cases where sending the request again can help: the server
 * rejected the access token itself (`error="invalid_token"`: fetch a new one), or it wants a DPoP
 * nonce (`DPoP error="use_dpop_nonce"`: send a new proof with it).
 *
 * @module bearer-challenge
 */

const TOKEN_CHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/

interface Challenge {
  scheme: string
  params: Map<string, string>
}

/** Parses a `WWW-Authenticate` value into challenges; unparseable trailing input is ignored. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = []
  let i = 0
  const n = header.length
  const skip = (chars: string) => {
    while (i < n && chars.includes(header[i]!)) i++
  }
  const token = (): string => {
    const start = i
    while (i < n && TOKEN_CHAR.test(header[i]!)) i++
    return header.slice(start, i)
  }
  const quoted = (): string | undefined => {
    let out = ''
    i++ // opening quote
    while (i < n) {
      const c = header[i]!
      if (c === '\\' && i + 1 < n) {
        out += header[i + 1]
        i += 2
      } else if (c === '"') {
        i++
        return out
      } else {
        out += c
        i++
      }
    }
    return undefined
  }

  while (i < n) {
    // '=' is skipped too: it can only be left over from a token68's padding.
    skip(' \t,=')
    const scheme = token()
    if (scheme === '') break
    const challenge: Challenge = { scheme: scheme.toLowerCase(), params: new Map() }
    challenges.push(challenge)
    for (;;) {
      skip(' \t')
      const mark = i
      const name = token()
      skip(' \t')
      if (name === '' || header[i] !== '=') {
        // Not an auth-param: the next challenge (or a token68) starts here.
        i = mark
        break
      }
      i++
      skip(' \t')
      const value = header[i] === '"' ? quoted() : token()
      if (value === undefined) return challenges
      challenge.params.set(name.toLowerCase(), value)
      skip(' \t')
      if (header[i] !== ',') break
      // After a comma: another auth-param of this challenge, or the next challenge's scheme.
      skip(' \t,')
      const next = i
      token()
      skip(' \t')
      const isParam = header[i] === '='
      i = next
      if (!isParam) break
    }
  }
  return challenges
}

/** Whether a `WWW-Authenticate` value holds a challenge of one of `schemes` with this `error`. */
function hasChallengeError(
  header: string | readonly string[] | null | undefined,
  schemes: readonly string[],
  error: string,
): boolean {
  if (header === null || header === undefined) return false
  const values = typeof header === 'string' ? [header] : header
  for (const value of values) {
    for (const challenge of parseChallenges(value)) {
      if (schemes.includes(challenge.scheme) && challenge.params.get('error') === error) return true
    }
  }
  return false
}

const BEARER: readonly string[] = ['bearer']
const BEARER_OR_DPOP: readonly string[] = ['bearer', 'dpop']

/**
 * Whether a `WWW-Authenticate` value rejects the token: a Bearer challenge with
 * `error="invalid_token"`, or, for a request that carried a DPoP token, a DPoP one too (RFC 9449
 * §7.1; a server taking both schemes may answer with either).
 */
export function isInvalidTokenChallenge(
  header: string | readonly string[] | null | undefined,
  { dpop = false }: { dpop?: boolean } = {},
): boolean {
  return hasChallengeError(header, dpop ? BEARER_OR_DPOP : BEARER, 'invalid_token')
}

/** Whether a `WWW-Authenticate` value holds a DPoP challenge with `error="use_dpop_nonce"` (RFC 9449 §9). */
export function isUseDpopNonceChallenge(header: string | readonly string[] | null | undefined): boolean {
  return hasChallengeError(header, ['dpop'], 'use_dpop_nonce')
}
