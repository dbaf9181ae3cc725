/**
 * The reference authorization server as a restartable process would be: a fixed configuration
 * (clients and a persisted signing key) that can be stopped and started again on the same port.
 */
import {
  type AuthorizationServer,
  type AuthorizationServerConfig,
  createAuthorizationServer,
} from '@oauth-m2m/server'
import { exportJWK, generateKeyPair, type JWK } from 'jose'

/** A private ES256 signing key, as a server would load from its configuration. */
export async function persistedSigningKey(): Promise<JWK> {
  const { privateKey } = await generateKeyPair('ES256', { extractable: true })
  return { ...(await exportJWK(privateKey)), kid: 'persisted-key', alg: 'ES256' }
}

/** Most attempts at binding a port another listener has just released. */
const BIND_ATTEMPTS = 20

function isAddressInUse(error: unknown): boolean {
  return (error as { code?: unknown })?.code === 'EADDRINUSE'
}

/** A server that was started with `config`, and stopped and started again with it at will. */
export interface RestartableServer {
  /** The server of the current run. */
  readonly server: AuthorizationServer
  /** Base URL, the same on every run. */
  readonly url: string
  stop(): Promise<void>
  /** Starts a new server with the same configuration on the same port, as a restarted process would. */
  start(): Promise<void>
}

async function listenOn(server: AuthorizationServer, port: number): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await server.listen({ port, host: '127.0.0.1' })).url
    } catch (error) {
      if (!isAddressInUse(error) || attempt === BIND_ATTEMPTS) throw error
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
  }
}

/** Starts the server on a free port; later runs reuse that port and issuer. */
export async function startRestartableServer(config: AuthorizationServerConfig): Promise<RestartableServer> {
  let current = await createAuthorizationServer(config)
  const url = await listenOn(current, 0)
  const port = Number(new URL(url).port)
  return {
    get server() {
      return current
    },
    url,
    stop: () => current.close(),
    async start() {
      current = await createAuthorizationServer({ ...config, issuer: url })
      await listenOn(current, port)
    },
  }
}
