/**
 * One process of a client fleet (forked with an IPC channel by client-fleet.ts): a token client,
 * on a `redisTokenStore` shared with the other members, or on memory only when no Redis is given.
 *
 * Its configuration comes in `E2E_FLEET_MEMBER` (JSON, {@link FleetMemberConfig}). Messages: it
 * sends `{ type: 'ready' }`; it answers `{ type: 'burst', callers, scope? }` (that many concurrent
 * `getToken()` calls) with `{ type: 'burst', tokens, failures }` — digests of the distinct tokens
 * it got, never a token — and `{ type: 'report' }` with `{ type: 'report', unhandledRejections }`;
 * `{ type: 'stop' }` closes it.
 */
import { createHash } from 'node:crypto'
import { clientSecretBasic, createTokenClient, type TokenStore } from '@oauth-m2m/client'
import { type RedisTokenStore, redisTokenStore } from '@oauth-m2m/redis'

/** What the test hands a member. */
export interface FleetMemberConfig {
  tokenEndpoint: string
  clientId: string
  clientSecret: string
  scope: string
  /** The fleet's Redis; none: memory only (each process on its own). */
  redisUrl?: string
  keyPrefix?: string
  /** Client lifecycle options, for short-lived tokens. */
  refreshMarginSec?: number
  expiryMarginSec?: number
}

/** A message from a member. */
export type FleetMemberMessage =
  | { type: 'ready' }
  | { type: 'burst'; tokens: string[]; failures: string[] }
  | { type: 'report'; unhandledRejections: string[] }

/** A message to a member. */
export type FleetMemberCommand =
  | { type: 'burst'; callers: number; scope?: string }
  | { type: 'report' }
  | { type: 'stop' }

const send = (message: FleetMemberMessage) => process.send?.(message)

const unhandledRejections: string[] = []
process.on('unhandledRejection', (reason) => {
  unhandledRejections.push(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason))
})

const config = JSON.parse(process.env.E2E_FLEET_MEMBER as string) as FleetMemberConfig
let store: RedisTokenStore | undefined
if (config.redisUrl !== undefined) {
  store = redisTokenStore({ url: config.redisUrl, keyPrefix: config.keyPrefix, commandTimeoutMs: 500 })
  // Connected before the member says it is ready.
  await store.get('connected')
}
const client = createTokenClient({
  tokenEndpoint: config.tokenEndpoint,
  clientId: config.clientId,
  auth: clientSecretBasic(config.clientSecret),
  scope: config.scope,
  ...(store ? { store: store as TokenStore } : {}),
  ...(config.refreshMarginSec === undefined ? {} : { refreshMarginSec: config.refreshMarginSec }),
  ...(config.expiryMarginSec === undefined ? {} : { expiryMarginSec: config.expiryMarginSec }),
})

const digest = (token: string) => createHash('sha256').update(token).digest('base64url').slice(0, 16)

async function burst(callers: number, scope: string | undefined): Promise<FleetMemberMessage> {
  const settled = await Promise.allSettled(
    Array.from({ length: callers }, () => client.getToken(scope === undefined ? undefined : { scope })),
  )
  const tokens = new Set<string>()
  const failures: string[] = []
  for (const result of settled) {
    if (result.status === 'fulfilled') tokens.add(digest(result.value.accessToken))
    else failures.push(result.reason instanceof Error ? result.reason.name : String(result.reason))
  }
  return { type: 'burst', tokens: [...tokens], failures }
}

process.on('message', (command: FleetMemberCommand) => {
  if (command.type === 'burst') {
    void burst(command.callers, command.scope).then(send)
  } else if (command.type === 'report') {
    send({ type: 'report', unhandledRejections })
  } else if (command.type === 'stop') {
    const exit = () => process.exit(0)
    Promise.all([client.close(), store?.close()]).then(exit, exit)
  }
})
process.on('disconnect', () => process.exit(0))
send({ type: 'ready' })
