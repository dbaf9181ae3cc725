import { encodeBasicCredentials } from '../basic-credentials.js'
import { assertSecretSource, resolveSecret } from './secret-source.js'
import type { ClientAuthStrategy, SecretSource } from './types.js'

/**
 * `client_secret_basic` (RFC 6749 §2.3.1): id and secret in an `Authorization: Basic` header,
 * each form-urlencoded before base64, as the RFC requires and many servers forget.
 *
 * @param secret The client secret, or a function returning the current one.
 */
export function clientSecretBasic(secret: SecretSource): ClientAuthStrategy {
  assertSecretSource(secret, 'clientSecretBasic')
  return {
    method: 'client_secret_basic',
    async apply(request, context) {
      const value = await resolveSecret(secret)
      const header = encodeBasicCredentials(context.clientId, value)
      request.headers.authorization = header
      return { sensitive: [value, header.slice('Basic '.length)] }
    },
  }
}
