/**
 * The certificate-binding check of RFC 8705 §3: a token whose `cnf` names a certificate
 * (`x5t#S256`) is accepted only from a request that came with that client certificate — over
 * mutual TLS, or forwarded by a trusted proxy (RFC 9440). Tokens not bound to a certificate are
 * not affected by whether one came.
 *
 * @module certificate-binding
 */
import type { X509Certificate } from 'node:crypto'
import { InvalidTokenError } from '@oauth-m2m/core'
import { certificateThumbprint } from '@oauth-m2m/core/internal'
import type { Principal } from './types.js'

/**
 * Checks that a certificate-bound token came with its certificate.
 *
 * @throws {InvalidTokenError} the token is bound to a certificate and the request came with none,
 *   or with another one (RFC 8705 §3: 401 `invalid_token`).
 */
export function checkCertificateBinding(
  principal: Principal,
  certificate: X509Certificate | undefined,
): void {
  const bound = principal.confirmation?.['x5t#S256']
  if (bound === undefined) return
  if (certificate === undefined) {
    throw new InvalidTokenError(
      'the token is bound to a client certificate (RFC 8705): send it over mutual TLS with that certificate',
    )
  }
  if (certificateThumbprint(certificate) !== bound) {
    throw new InvalidTokenError('the token is bound to another client certificate than the one presented')
  }
}
