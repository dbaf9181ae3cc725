/**
 * The undici dispatcher that presents a mutual-TLS strategy's certificate. One `Agent` per
 * certificate, made on first use and shared by everything that authenticates with it (token
 * requests, introspection, and the token client's discovery and resource requests), so its
 * connections and TLS sessions are reused rather than a handshake made per request. Its idle
 * sockets are unreferenced by undici, so it never keeps a process alive.
 *
 * @module client-auth/tls-client-dispatcher
 */
import { Agent, type Dispatcher } from 'undici'
import type { ClientAuthStrategy, TlsClientCertificate } from './types.js'

const dispatchers = new WeakMap<TlsClientCertificate, Dispatcher>()

/** The `Agent` presenting `certificate`, created on first use. */
export function tlsClientDispatcher(certificate: TlsClientCertificate): Dispatcher {
  let dispatcher = dispatchers.get(certificate)
  if (dispatcher === undefined) {
    dispatcher = new Agent({ connect: certificate.connectOptions() })
    dispatchers.set(certificate, dispatcher)
  }
  return dispatcher
}

/**
 * Where a request `auth` authenticates goes: the caller's own dispatcher when it gives one (it is
 * then the caller's job to present a certificate), else, for a mutual-TLS strategy, the `Agent`
 * presenting its certificate, else undici's global dispatcher (`undefined`).
 */
export function authenticatingDispatcher(
  auth: Pick<ClientAuthStrategy, 'tls'>,
  given: Dispatcher | undefined,
): Dispatcher | undefined {
  if (given !== undefined) return given
  return auth.tls === undefined ? undefined : tlsClientDispatcher(auth.tls)
}
