import { assertSecretSource, resolveSecret } from './secret-source.js'
import type { ClientAuthStrategy, SecretSource } from './types.js'

/**
 * `client_secret_post` (RFC 6749 §2.3.1): `client_id` and `client_secret` in the form body.
 *
 * @param secret The client secret, or a function returning the current one.
 */
export function clientSecretPost(secret: SecretSource): ClientAuthStrategy {
  assertSecretSource(secret, 'clientSecretPost')
  return {
    method: 'client_secret_post',
    async apply(request, context) {
      const value = await resolveSecret(secret)
      request.body.set('client_id', context.clientId)
      request.body.set('client_secret', value)
      return { sensitive: [value] }
    },
  }
}
