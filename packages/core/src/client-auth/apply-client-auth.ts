/**
 * Applying a client authentication strategy to a request, and knowing afterwards what it put on
 * the wire that must never be repeated: the caller scrubs those strings from anything the answer
 * carries before it builds an error from it (see redaction).
 *
 * @module client-auth/apply-client-auth
 */
import { createRedactor, type Redactor } from '../redaction.js'
import type { ClientAuthContext, ClientAuthRequest, ClientAuthStrategy } from './types.js'

/** Form parameters a strategy sets that are not credentials. */
const PUBLIC_PARAMS: ReadonlySet<string> = new Set(['client_id', 'client_assertion_type'])

/**
 * Adds `strategy`'s credentials to `request` and returns a {@link Redactor} for them, and for
 * `alsoSensitive` (what else the request carries that must not be repeated, e.g. the token being
 * introspected). The strings
 * the strategy declares are joined by whatever it put in a credential slot — every header it set
 * and every form parameter other than `client_id` and `client_assertion_type` — so that a strategy
 * written elsewhere, which declares nothing, is covered too.
 */
export async function applyClientAuth(
  strategy: ClientAuthStrategy,
  request: ClientAuthRequest,
  context: ClientAuthContext,
  alsoSensitive: readonly string[] = [],
): Promise<Redactor> {
  const headersBefore = { ...request.headers }
  const bodyBefore = new URLSearchParams(request.body)
  const applied = await strategy.apply(request, context)
  const sensitive: string[] = [...alsoSensitive, ...(applied?.sensitive ?? [])]
  for (const [name, value] of Object.entries(request.headers)) {
    if (headersBefore[name] === value) continue
    sensitive.push(value)
    // `Basic <credential>`, `Bearer <token>`: the credential alone, as a server would quote it.
    const space = value.indexOf(' ')
    if (space !== -1) sensitive.push(value.slice(space + 1).trim())
  }
  for (const [name, value] of request.body) {
    if (!PUBLIC_PARAMS.has(name) && !bodyBefore.getAll(name).includes(value)) sensitive.push(value)
  }
  return createRedactor(sensitive)
}
