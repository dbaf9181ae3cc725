/**
 * Scaffolding, not the lesson: the reference authorization server on 127.0.0.1, which an operator
 * can reconfigure. The reference server reads its registered clients once, at start, so a change
 * of secrets is a restart with the new configuration, on the same address and issuer — as a real
 * deployment would roll out a config change. (Hosted authorization servers do the same from
 * their admin console or management API.)
 */
import { type ClientMetadata, createAuthorizationServer, type ListeningServer } from '@oauth-m2m/server'

/** The running authorization server. */
export interface ReconfigurableServer {
  issuer: string
  /** Restarts the server with `clients` registered instead, on the same address. */
  reconfigure(clients: ClientMetadata[]): Promise<void>
  close(): Promise<void>
}

export async function startAuthorizationServer(clients: ClientMetadata[]): Promise<ReconfigurableServer> {
  let listener: ListeningServer = await (await createAuthorizationServer({ clients })).listen({
    port: 0,
    host: '127.0.0.1',
  })
  const issuer = listener.url
  const { port } = new URL(issuer)
  return {
    issuer,
    async reconfigure(next) {
      const server = await createAuthorizationServer({ issuer, clients: next })
      await listener.close()
      listener = await server.listen({ port: Number(port), host: '127.0.0.1' })
    },
    close: () => listener.close(),
  }
}
