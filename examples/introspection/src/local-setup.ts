/**
 * Scaffolding, not the lesson. Locally it starts the reference authorization server on 127.0.0.1
 * (a free port), configured to issue OPAQUE tokens for the billing API, with two clients: the
 * billing API itself (which needs credentials to call the introspection endpoint) and a checkout
 * service that calls it. With ISSUER set, the authorization server named by the environment is
 * used instead: AUDIENCE is the API's identifier there, API_CLIENT_ID / API_CLIENT_SECRET the
 * API's credentials, CLIENT_ID / CLIENT_SECRET the calling service's (allowed `billing:charge`).
 */
import { createAuthorizationServer } from '@oauth-m2m/server'

/** Credentials registered at the authorization server. */
export interface Credentials {
  clientId: string
  clientSecret: string
}

/** The authorization server, and who is registered there. */
export interface Deployment {
  issuer: string
  /** The billing API's identifier: the `aud` of the tokens it accepts. */
  audience: string
  /** The billing API's own credentials, for introspection. */
  api: Credentials
  /** The service that calls the billing API. */
  caller: Credentials
  /** Stops whatever was started locally. */
  close(): Promise<void>
}

/** Starts the reference server, unless ISSUER names a real one. */
export async function startAuthorizationServer(env: NodeJS.ProcessEnv = process.env): Promise<Deployment> {
  if (env.ISSUER) {
    const { ISSUER, AUDIENCE, API_CLIENT_ID, API_CLIENT_SECRET, CLIENT_ID, CLIENT_SECRET } = env
    if (!AUDIENCE || !API_CLIENT_ID || !API_CLIENT_SECRET || !CLIENT_ID || !CLIENT_SECRET) {
      throw new Error(
        'AUDIENCE, API_CLIENT_ID, API_CLIENT_SECRET, CLIENT_ID and CLIENT_SECRET must be set when ISSUER is',
      )
    }
    return {
      issuer: ISSUER,
      audience: AUDIENCE,
      api: { clientId: API_CLIENT_ID, clientSecret: API_CLIENT_SECRET },
      caller: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET },
      close: async () => {},
    }
  }

  const audience = 'https://billing.example.com'
  const api = { clientId: 'billing-api', clientSecret: 'local-api-secret' }
  const caller = { clientId: 'checkout-service', clientSecret: 'local-caller-secret' }
  const server = await createAuthorizationServer({
    clients: [
      { client_id: api.clientId, client_secret: api.clientSecret },
      { client_id: caller.clientId, client_secret: caller.clientSecret, scope: 'billing:charge' },
    ],
    // Opaque tokens carry nothing readable: only the authorization server can say what they mean.
    resources: [{ resource: audience, tokenFormat: 'opaque' }],
  })
  const { url: issuer, close } = await server.listen({ port: 0, host: '127.0.0.1' })
  return { issuer, audience, api, caller, close }
}
