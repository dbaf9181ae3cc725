/**
 * Client authentication with an assertion minted by someone else (RFC 7521 §4.2, RFC 7523 §2.2):
 * workload identity federation, where the platform vouches for the workload: a Kubernetes
 * projected service-account token, a GitHub Actions OIDC token, a SPIFFE JWT-SVID. The client only
 * forwards it; it holds no secret of its own.
 *
 * @module client-auth/client-assertion
 */
import { readFile, stat } from 'node:fs/promises'
import { ConfigurationError } from '../errors.js'
import { JWT_BEARER_ASSERTION_TYPE } from './assertion.js'
import type { ClientAuthStrategy } from './types.js'

/**
 * Where the assertion comes from: a function called for every token request (it may fetch a
 * fresh one, e.g. from the GitHub Actions OIDC endpoint), or a file re-read whenever it changes
 * (Kubernetes rewrites a projected token's file before the token expires).
 */
export type ClientAssertionSource = (() => string | Promise<string>) | { readonly file: string }

/** Options of {@link clientAssertion}. */
export interface ClientAssertionOptions {
  /**
   * The `client_assertion_type`. Default `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
   * (RFC 7523), which Entra ID, Okta, Keycloak and most servers expect for federated JWTs.
   */
  assertionType?: string
}

const COMPACT_JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/

/** Reads the file again only when its identity, size or modification time changed. */
function fileSource(path: string): () => Promise<string> {
  let cached: { signature: string; content: string } | undefined
  return async () => {
    let signature: string
    try {
      const info = await stat(path)
      signature = `${info.ino}:${info.size}:${info.mtimeMs}`
      if (cached?.signature === signature) return cached.content
      const content = await readFile(path, 'utf8')
      cached = { signature, content }
      return content
    } catch (cause) {
      cached = undefined
      throw new ConfigurationError(`clientAssertion: the assertion file ${path} cannot be read`, { cause })
    }
  }
}

/**
 * Sends `client_id`, `client_assertion_type` and a `client_assertion` obtained from `source`.
 *
 * ```ts
 * // Kubernetes: a projected service-account token whose audience is the authorization server
 * auth: clientAssertion({ file: '/var/run/secrets/tokens/oauth-token' })
 * ```
 *
 * The assertion must be a compact JWS (header.payload.signature); surrounding white space (a
 * file's trailing newline) is ignored. It is never quoted in an error.
 *
 * @throws {ConfigurationError} at creation when `source` is neither a function nor `{ file }`; at
 *   use when the file cannot be read or the assertion is empty or not a compact JWT.
 */
export function clientAssertion(
  source: ClientAssertionSource,
  options: ClientAssertionOptions = {},
): ClientAuthStrategy {
  let next: () => string | Promise<string>
  if (typeof source === 'function') {
    next = source
  } else if (
    typeof source === 'object' &&
    source !== null &&
    typeof source.file === 'string' &&
    source.file !== ''
  ) {
    next = fileSource(source.file)
  } else {
    throw new ConfigurationError('clientAssertion: source must be a function or { file: path }')
  }
  const assertionType = options.assertionType ?? JWT_BEARER_ASSERTION_TYPE
  if (typeof assertionType !== 'string' || !/^[\x21-\x7e]+$/.test(assertionType)) {
    throw new ConfigurationError('clientAssertion: assertionType must be a URI')
  }
  return {
    method: 'private_key_jwt',
    async apply(request, context) {
      const value = await next()
      const assertion = typeof value === 'string' ? value.trim() : ''
      if (!COMPACT_JWT.test(assertion)) {
        throw new ConfigurationError('clientAssertion: the source gave no assertion in compact JWT form')
      }
      request.body.set('client_id', context.clientId)
      request.body.set('client_assertion_type', assertionType)
      request.body.set('client_assertion', assertion)
      return { sensitive: [assertion] }
    },
  }
}
