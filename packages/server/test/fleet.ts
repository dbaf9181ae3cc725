/**
 * Several server instances on one store, as behind a load balancer: each is a real server
 * answering through `handle()` (no sockets needed), all with one issuer and one clock. Events
 * travel between them in process (MemoryServerStore delivers them like a shared store would).
 */
import {
  type AuthorizationServer,
  type AuthorizationServerConfig,
  createAuthorizationServer,
  type HandleOptions,
  MemoryServerStore,
  type ServerStore,
} from '@oauth-m2m/server'
import type { JWK } from 'jose'
import { afterEach } from 'vitest'
import { basic, FORM } from './test-server.js'

export const ISSUER = 'https://as.example.com'
export const SECRET = 'svc-secret-0123456789'

/** A clock the servers and the store read; tests move it. */
export interface TestClock {
  ms: number
  now: () => number
}

export function testClock(): TestClock {
  const clock: TestClock = { ms: 1_800_000_000_000, now: () => clock.ms }
  return clock
}

const running: AuthorizationServer[] = []
afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()))
})

/** `count` servers on `store`, closed after the test. */
export async function startFleet(
  count: number,
  config: Partial<AuthorizationServerConfig> & { store: ServerStore },
): Promise<AuthorizationServer[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      createAuthorizationServer({
        issuer: ISSUER,
        clients: [{ client_id: 'svc', client_secret: SECRET, scope: 'read' }],
        ...config,
      }),
    ),
  )
  running.push(...servers)
  return servers
}

/** A fleet's store with the fleet's clock. */
export function sharedStore(clock: TestClock): MemoryServerStore {
  return new MemoryServerStore({ now: clock.now })
}

/** The answer of one request to `server`, its body parsed as JSON when it is. */
export async function call(
  server: AuthorizationServer,
  path: string,
  init: RequestInit = {},
  options: HandleOptions = {},
): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }> {
  const response = await server.handle(new Request(`${ISSUER}${path}`, init), options)
  const text = await response.text()
  return { status: response.status, headers: response.headers, json: text === '' ? {} : JSON.parse(text) }
}

/** POSTs a form with client_secret_basic for `svc` (or the given secret). */
export function postAs(
  server: AuthorizationServer,
  path: string,
  form: Record<string, string>,
  secret = SECRET,
  options: HandleOptions = {},
) {
  return call(
    server,
    path,
    {
      method: 'POST',
      headers: { ...basic('svc', secret), 'content-type': FORM },
      body: new URLSearchParams(form).toString(),
    },
    options,
  )
}

/** A new access token from `server`. */
export async function tokenFrom(server: AuthorizationServer): Promise<string> {
  const answer = await postAs(server, '/token', { grant_type: 'client_credentials' })
  if (answer.status !== 200) throw new Error(`token request answered ${answer.status}`)
  return answer.json.access_token as string
}

/** The JWKS `server` publishes. */
export async function jwksOf(server: AuthorizationServer): Promise<{ keys: JWK[] }> {
  return (await call(server, '/jwks')).json as unknown as { keys: JWK[] }
}

/** The `kid`s `server` publishes, sorted. */
export async function kidsOf(server: AuthorizationServer): Promise<string[]> {
  return (await jwksOf(server)).keys.map((key) => key.kid as string).sort()
}
