/**
 * The real reference authorization server on 127.0.0.1 port 0, a real `createVerifier()` for one
 * of its resources, and a way to mint tokens over its `/token` endpoint.
 */
import { clientSecretBasic } from '@oauth-m2m/core'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { type AuthorizationServer, createAuthorizationServer } from '@oauth-m2m/server'
import { createVerifier, type Verifier } from '@oauth-m2m/verifier'

/** The resource (and JWT audience) the verifier protects. */
export const API = 'https://things.example/'
/** A resource for which the server issues opaque tokens, checked by introspection. */
export const OPAQUE_API = 'https://opaque-things.example/'

/** A running reference server with verifiers for {@link API} and {@link OPAQUE_API}. */
export interface ReferenceSetup {
  server: AuthorizationServer
  issuer: string
  verifier: Verifier
  opaqueVerifier: Verifier
  /** An access token of client `service-a` for `resource` with `scope`. */
  mint(scope: string, resource?: string): Promise<string>
  close(): Promise<void>
}

/** Starts the server with client `service-a` (scopes `read admin`) and resource server `things-rs`. */
export async function startReferenceSetup(): Promise<ReferenceSetup> {
  const server = await createAuthorizationServer({
    clients: [
      { client_id: 'service-a', client_secret: 'service-a-secret', scope: 'read admin' },
      { client_id: 'things-rs', client_secret: 'things-rs-secret' },
    ],
    resources: [{ resource: API }, { resource: OPAQUE_API, tokenFormat: 'opaque' }],
  })
  const listener = await server.listen({ port: 0, host: '127.0.0.1' })
  const issuer = listener.url
  const verifier = createVerifier({ issuer, audience: API })
  const opaqueVerifier = createVerifier({
    issuer,
    audience: OPAQUE_API,
    introspection: { clientId: 'things-rs', auth: clientSecretBasic('things-rs-secret') },
  })
  return {
    server,
    issuer,
    verifier,
    opaqueVerifier,
    async mint(scope, resource = API) {
      const response = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: {
          authorization: encodeBasicCredentials('service-a', 'service-a-secret'),
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
      })
      const body = (await response.json()) as { access_token?: string }
      if (response.status !== 200 || typeof body.access_token !== 'string') {
        throw new Error(`the reference server refused a token: ${response.status}`)
      }
      return body.access_token
    },
    async close() {
      await Promise.all([verifier.close(), opaqueVerifier.close()])
      await server.close()
    },
  }
}
