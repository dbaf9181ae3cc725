/**
 * `server.address` and `server.port` (OpenTelemetry semantic conventions) of a URL the packages
 * report: the token endpoint or issuer, the introspection endpoint, the JWKS URI. Only host and
 * port are kept, never the path or query, which keeps the attributes bounded and free of anything
 * a URL might carry.
 *
 * @module server-endpoint
 */
import type { Attributes } from '@opentelemetry/api'
import { ATTRIBUTE_NAMES } from './telemetry-names.js'

const DEFAULT_PORTS: Readonly<Record<string, number>> = { 'https:': 443, 'http:': 80 }

/** The server attributes of `url`; none when it is not an absolute URL. */
export function serverAttributes(url: string): Attributes {
  if (!URL.canParse(url)) return {}
  const { hostname, port, protocol } = new URL(url)
  if (hostname === '') return {}
  // WHATWG keeps an IPv6 host in brackets; the convention wants the address alone.
  const address = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  const number = port === '' ? DEFAULT_PORTS[protocol] : Number(port)
  return number === undefined
    ? { [ATTRIBUTE_NAMES.serverAddress]: address }
    : { [ATTRIBUTE_NAMES.serverAddress]: address, [ATTRIBUTE_NAMES.serverPort]: number }
}
