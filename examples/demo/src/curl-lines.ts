/**
 * For `--keep`: shell lines a user can paste to talk to the running demo by hand. They print the
 * demo's generated secrets on purpose: throwaway credentials of a server on loopback.
 *
 * @module curl-lines
 */

import type { DemoCredentials } from './config.js'
import { SCOPES } from './config.js'

/** Where everything listens and who may call. */
export interface CurlTargets {
  issuer: string
  inventory: string
  billing: string
  checkout: DemoCredentials
  billingIntrospection: DemoCredentials
  tokenLifetimeSec: number
}

function quote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`
}

const EXTRACT_TOKEN = `node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token'`

/** The seed flow (`curl -u id:secret -d grant_type=client_credentials …/token`) and calls with its token. */
export function curlLines(t: CurlTargets): string[] {
  const basic = (c: DemoCredentials) => `-u ${quote(`${c.clientId}:${c.clientSecret}`)}`
  const tokenRequest = (scope: string, resource: string) =>
    `curl -s ${basic(t.checkout)} -d grant_type=client_credentials -d ${quote(`scope=${scope}`)} --data-urlencode ${quote(`resource=${resource}`)} ${t.issuer}/token`
  return [
    '# The authorization server metadata (RFC 8414)',
    `curl -s ${t.issuer}/.well-known/oauth-authorization-server`,
    '',
    '# A token for inventory-api, as checkout-service (client_secret_basic)',
    tokenRequest(SCOPES.readStock, t.inventory),
    '',
    `# Get a token and call inventory-api with it (tokens live ${t.tokenLifetimeSec} s here, so run both lines together)`,
    `TOKEN=$(${tokenRequest(SCOPES.readStock, t.inventory)} | ${EXTRACT_TOKEN})`,
    `curl -i -H "Authorization: Bearer $TOKEN" ${t.inventory}/items`,
    '',
    '# The same token cannot reserve stock: 403 insufficient_scope',
    `curl -i -X POST -H "Authorization: Bearer $TOKEN" ${t.inventory}/reservations`,
    '',
    '# An opaque token for billing-api, a charge with it, and what introspection says about it',
    `TOKEN=$(${tokenRequest(SCOPES.charge, t.billing)} | ${EXTRACT_TOKEN})`,
    `curl -i -X POST -H "Authorization: Bearer $TOKEN" ${t.billing}/charges`,
    `curl -s ${basic(t.billingIntrospection)} --data-urlencode "token=$TOKEN" ${t.issuer}/introspect`,
  ]
}
