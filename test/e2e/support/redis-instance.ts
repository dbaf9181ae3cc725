/**
 * One instance of the reference server on a Redis store, in a process of its own (forked with an
 * IPC channel by redis-instances.ts): what a deployment behind a load balancer runs N of.
 *
 * Its configuration comes in `E2E_REDIS_INSTANCE` (JSON, {@link InstanceConfig}). Messages: it sends
 * `{ type: 'ready', url }`; it answers `{ type: 'rotate' }` with `{ type: 'rotated', kid }` and
 * `{ type: 'report' }` with `{ type: 'report', unhandledRejections, internalErrors }` (the names of
 * what went to `onInternalError`); `{ type: 'stop' }` closes it.
 */
import { redisServerStore } from '@oauth-m2m/redis'
import { type AuthorizationServerConfig, createAuthorizationServer } from '@oauth-m2m/server'

/** What the test hands an instance. */
export interface InstanceConfig {
  redisUrl: string
  keyPrefix: string
  keyEncryptionKey: string
  issuer: string
  clients: NonNullable<AuthorizationServerConfig['clients']>
  resources: NonNullable<AuthorizationServerConfig['resources']>
}

/** A message from an instance. */
export type InstanceMessage =
  | { type: 'ready'; url: string }
  | { type: 'rotated'; kid: string | undefined }
  | { type: 'report'; unhandledRejections: string[]; internalErrors: string[] }
  | { type: 'failed'; message: string }

/** A message to an instance. */
export type InstanceCommand = { type: 'rotate' } | { type: 'report' } | { type: 'stop' }

const send = (message: InstanceMessage) => process.send?.(message)

const unhandledRejections: string[] = []
process.on('unhandledRejection', (reason) => {
  unhandledRejections.push(reason instanceof Error ? `${reason.name}: ${reason.message}` : String(reason))
})
const internalErrors: string[] = []

const config = JSON.parse(process.env.E2E_REDIS_INSTANCE as string) as InstanceConfig
const store = redisServerStore({
  url: config.redisUrl,
  keyPrefix: config.keyPrefix,
  keyEncryptionKey: config.keyEncryptionKey,
  commandTimeoutMs: 500,
})
const server = await createAuthorizationServer({
  issuer: config.issuer,
  clients: config.clients,
  resources: config.resources,
  registration: { open: true },
  store,
  onInternalError: (error) => {
    internalErrors.push(error instanceof Error ? error.name : typeof error)
  },
})
const { url } = await server.listen({ port: 0, host: '127.0.0.1' })

process.on('message', (command: InstanceCommand) => {
  if (command.type === 'rotate') {
    server.rotateSigningKey().then(
      (jwk) => send({ type: 'rotated', kid: jwk.kid }),
      (error: unknown) => send({ type: 'failed', message: String(error) }),
    )
  } else if (command.type === 'report') {
    send({ type: 'report', unhandledRejections, internalErrors })
  } else if (command.type === 'stop') {
    const exit = () => process.exit(0)
    Promise.all([server.close(), store.close()]).then(exit, exit)
  }
})
process.on('disconnect', () => process.exit(0))
send({ type: 'ready', url })
