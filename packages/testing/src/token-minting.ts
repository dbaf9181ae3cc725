/**
 * Mints access tokens for tests by calling the reference server's own token endpoint in process
 * (`server.handle()`), so a token is exactly what a real client would get: same claims, same
 * signing key, and opaque tokens the server can introspect and revoke.
 *
 * @module token-minting
 */
import { HttpError, OAuthResponseError } from '@oauth-m2m/core'
import { applyClientAuth } from '@oauth-m2m/core/internal'
import type { AuthorizationServer } from '@oauth-m2m/server'
import type { TestClientCredentials } from './test-clients.js'

/** Options of `mintToken`. */
export interface MintTokenOptions {
  /**
   * The client the token is issued to: its `sub` and `client_id`. An id the server does not know
   * is registered first, as `createClient(clientId)` does. Default: the default client.
   */
  clientId?: string
  /** Scopes asked for (space-separated or a list). Default: every scope the client may have. */
  scope?: string | readonly string[]
  /**
   * RFC 8707 resource indicator(s); the token's `aud` becomes the resource's audience, and its
   * format and lifetime those configured for the resource. Default: none (the server's
   * `defaultAudience`).
   */
  resource?: string | readonly string[]
}

function list(value: string | readonly string[] | undefined): readonly string[] {
  if (value === undefined) return []
  return typeof value === 'string' ? [value] : value
}

/**
 * Asks `server`'s token endpoint for a client_credentials token as `client`.
 *
 * @throws {OAuthResponseError} when the server refuses.
 * @throws {HttpError} when its answer is not a token response.
 */
export async function requestTestToken(
  server: AuthorizationServer,
  client: TestClientCredentials,
  options: MintTokenOptions,
): Promise<string> {
  const body = new URLSearchParams({ grant_type: 'client_credentials' })
  const scope = list(options.scope).join(' ')
  if (scope !== '') body.set('scope', scope)
  for (const resource of list(options.resource)) body.append('resource', resource)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const redactor = await applyClientAuth(
    client.auth,
    { headers, body },
    {
      clientId: client.clientId,
      endpoint: client.tokenEndpoint,
      tokenEndpoint: client.tokenEndpoint,
      issuer: client.issuer,
    },
  )
  const response = await server.handle(
    new Request(client.tokenEndpoint, { method: 'POST', headers, body: body.toString() }),
  )
  const answer = (await response.json().catch(() => undefined)) as Record<string, unknown> | undefined
  if (response.status === 200 && typeof answer?.access_token === 'string') return answer.access_token
  if (typeof answer?.error === 'string') {
    // Scrubbed like the client's: the server may echo the credential it was sent.
    throw new OAuthResponseError({
      error: redactor.redact(answer.error),
      errorDescription: redactor.redact(
        typeof answer.error_description === 'string' ? answer.error_description : undefined,
      ),
      status: response.status,
    })
  }
  throw new HttpError(`the token endpoint answered ${response.status} without a token`, {
    status: response.status,
  })
}
