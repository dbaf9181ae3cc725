/**
 * Who a client's cache key belongs to. The cache channels name only the key, which the client
 * builds as a JSON array that starts with the token endpoint (or `issuer:` and the issuer, when the
 * endpoint is discovered) and the client id; those two are read back here for the `oauth_m2m.client.id` and `server.*` attributes. Anything that
 * does not have that shape gives no attributes rather than a guess: a test against the real client
 * pins the shape.
 *
 * @module client-key
 */
import type { Attributes } from '@opentelemetry/api'
import { serverAttributes } from './server-endpoint.js'
import { ATTRIBUTE_NAMES } from './telemetry-names.js'

/**
 * Keys remembered. A client keeps at most its `maxCacheEntries` keys, so a process has few; the
 * memo is emptied when it outgrows this bound rather than tracking which key is oldest.
 */
const MAX_REMEMBERED_KEYS = 1024

/** The attributes of a client's cache key, parsed once per key. */
export class ClientKeyAttributes {
  readonly #known = new Map<string, Attributes>()

  /** `oauth_m2m.client.id`, `server.address` and `server.port` of the client `key` belongs to. */
  of(key: string): Attributes {
    let attributes = this.#known.get(key)
    if (attributes === undefined) {
      attributes = Object.freeze(parse(key))
      if (this.#known.size >= MAX_REMEMBERED_KEYS) this.#known.clear()
      this.#known.set(key, attributes)
    }
    return attributes
  }
}

/** How a key names an issuer whose token endpoint is discovered. */
const ISSUER_PREFIX = 'issuer:'

function parse(key: string): Attributes {
  let parts: unknown
  try {
    parts = JSON.parse(key)
  } catch {
    return {}
  }
  if (!Array.isArray(parts)) return {}
  const [server, clientId] = parts as unknown[]
  if (typeof server !== 'string' || typeof clientId !== 'string') return {}
  const url = server.startsWith(ISSUER_PREFIX) ? server.slice(ISSUER_PREFIX.length) : server
  return { [ATTRIBUTE_NAMES.clientId]: clientId, ...serverAttributes(url) }
}
