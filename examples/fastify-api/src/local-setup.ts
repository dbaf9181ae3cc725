/**
 * Scaffolding, not the lesson. Locally it starts the reference authorization server on 127.0.0.1
 * (a free port), with the API registered as a resource and one calling service that may read and
 * write. With ISSUER set, the authorization server named by the environment is used instead:
 * AUDIENCE is the API's identifier there, and CLIENT_ID / CLIENT_SECRET a client that may get
 * tokens for it with the scopes `inventory:read` and `inventory:write`.
 *
 * `callApi` plays the services that call the API: with no token, a bad token, a read-only token
 * and a read-write token.
 */
import { clientSecretBasic, createTokenClient, type TokenClient } from '@oauth-m2m/client'
import { createAuthorizationServer } from '@oauth-m2m/server'

/** The authorization server the API trusts, and a client that can call the API. */
export interface Deployment {
  issuer: string
  /** The API's identifier: the `aud` of the tokens it accepts. */
  audience: string
  /** A service that calls the API. */
  caller: TokenClient
  /** Stops whatever was started locally. */
  close(): Promise<void>
}

/** Starts the reference server, unless ISSUER names a real one. */
export async function startAuthorizationServer(env: NodeJS.ProcessEnv = process.env): Promise<Deployment> {
  const caller = (issuer: string, audience: string, clientId: string, secret: string) =>
    createTokenClient({ issuer, clientId, auth: clientSecretBasic(secret), resource: audience })

  if (env.ISSUER) {
    const { ISSUER, AUDIENCE, CLIENT_ID, CLIENT_SECRET } = env
    if (!AUDIENCE || !CLIENT_ID || !CLIENT_SECRET) {
      throw new Error('AUDIENCE, CLIENT_ID and CLIENT_SECRET must be set when ISSUER is')
    }
    const client = caller(ISSUER, AUDIENCE, CLIENT_ID, CLIENT_SECRET)
    return { issuer: ISSUER, audience: AUDIENCE, caller: client, close: () => client.close() }
  }

  const audience = 'https://inventory.example.com'
  const server = await createAuthorizationServer({
    clients: [
      {
        client_id: 'warehouse-service',
        client_secret: 'local-demo-secret',
        scope: 'inventory:read inventory:write',
      },
    ],
    resources: [{ resource: audience }],
  })
  const { url: issuer, close } = await server.listen({ port: 0, host: '127.0.0.1' })
  const client = caller(issuer, audience, 'warehouse-service', 'local-demo-secret')
  return {
    issuer,
    audience,
    caller: client,
    async close() {
      await client.close()
      await close()
    },
  }
}

/** One call's answer. */
export interface CallResult {
  status: number
  /** The `WWW-Authenticate` header, on a refusal. */
  challenge: string | null
  body: unknown
}

/** What each kind of caller got from the API. */
export interface CallResults {
  health: CallResult
  noToken: CallResult
  badToken: CallResult
  readWithReadToken: CallResult
  writeWithReadToken: CallResult
  writeWithWriteToken: CallResult
}

/** Calls the API at `apiUrl` the ways its users (and attackers) would, and reports each answer. */
export async function callApi(
  caller: TokenClient,
  apiUrl: string,
  log: (line: string) => void,
): Promise<CallResults> {
  const readToken = (await caller.getToken({ scope: 'inventory:read' })).accessToken
  const writeToken = (await caller.getToken({ scope: 'inventory:read inventory:write' })).accessToken

  async function call(label: string, method: string, path: string, token?: string): Promise<CallResult> {
    const response = await fetch(new URL(path, apiUrl), {
      method,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
    })
    const text = await response.text()
    const challenge = response.headers.get('www-authenticate')
    log(`${label}: ${method} ${path} -> ${response.status}${challenge ? ` (${challenge})` : ` ${text}`}`)
    return { status: response.status, challenge, body: text === '' ? undefined : safeJson(text) }
  }

  return {
    health: await call('anyone', 'GET', '/health'),
    noToken: await call('no token', 'GET', '/things'),
    badToken: await call('forged token', 'GET', '/things', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'),
    readWithReadToken: await call('read token', 'GET', '/things', readToken),
    writeWithReadToken: await call('read token', 'POST', '/things', readToken),
    writeWithWriteToken: await call('write token', 'POST', '/things', writeToken),
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    return text
  }
}
