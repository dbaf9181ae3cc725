/**
 * Scaffolding, not the lesson. Locally it starts the reference authorization server on
 * 127.0.0.1 (a free port) with the client registered as the caller describes it. With ISSUER set,
 * the authorization server named by the environment is used, where the client is already
 * registered with the public half of PRIVATE_KEY_JWK.
 */
import { discover } from '@oauth-m2m/core'
import { type ClientMetadata, createAuthorizationServer } from '@oauth-m2m/server'
import { createRemoteJWKSet, type JWK, type JWTPayload, jwtVerify } from 'jose'

/** The authorization server the example's client talks to, and the credentials it is registered with. */
export interface Registration {
  issuer: string
  clientId: string
  privateJwk: JWK
  /** Stops the server when it was started locally. */
  close(): Promise<void>
}

/**
 * Starts the reference server with `client` registered, and hands back `privateJwk` to use. With
 * ISSUER set, nothing is started: the issuer, CLIENT_ID and PRIVATE_KEY_JWK (JSON) of the
 * environment are used instead.
 */
export async function register(
  client: ClientMetadata,
  privateJwk: JWK,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Registration> {
  if (env.ISSUER) {
    if (!env.CLIENT_ID || !env.PRIVATE_KEY_JWK) {
      throw new Error('CLIENT_ID and PRIVATE_KEY_JWK must be set when ISSUER is')
    }
    const fromEnv = JSON.parse(env.PRIVATE_KEY_JWK) as JWK
    return { issuer: env.ISSUER, clientId: env.CLIENT_ID, privateJwk: fromEnv, close: async () => {} }
  }
  const server = await createAuthorizationServer({ clients: [client] })
  const { url, close } = await server.listen({ port: 0, host: '127.0.0.1' })
  return { issuer: url, clientId: client.client_id, privateJwk, close }
}

/**
 * What an API would check: the token is a JWT access token (RFC 9068) signed by the issuer's
 * published keys. Returns its claims.
 */
export async function checkAccessToken(issuer: string, accessToken: string): Promise<JWTPayload> {
  const { jwks_uri } = await discover(issuer)
  if (jwks_uri === undefined) throw new Error(`${issuer} publishes no jwks_uri`)
  const { payload } = await jwtVerify(accessToken, createRemoteJWKSet(new URL(jwks_uri)), {
    issuer,
    typ: 'at+jwt',
  })
  return payload
}
