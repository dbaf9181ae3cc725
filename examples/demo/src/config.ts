/**
 * The demo's world: two services and two APIs, described as the reference server's configuration.
 * Secrets are generated per run; they are throwaway credentials for a server on loopback.
 *
 * @module config
 */
import { randomBytes } from 'node:crypto'
import type { AuthorizationServerConfig } from '@oauth-m2m/server'

/** Where the two APIs listen; their base URLs are also their RFC 8707 resource indicators. */
export interface ApiUrls {
  inventory: string
  billing: string
}

/** One registered client and its generated secret. */
export interface DemoCredentials {
  clientId: string
  clientSecret: string
}

/** Everything the demo registers at the authorization server. */
export interface DemoSetup {
  config: AuthorizationServerConfig
  /** Calls both APIs: reads stock, reserves it, charges the customer. */
  checkout: DemoCredentials
  /** Reads stock only: its token never carries `inventory:reserve`. */
  reporting: DemoCredentials
  /** billing-api's own credentials, used only to call the introspection endpoint. */
  billingIntrospection: DemoCredentials
}

/** Scopes each API demands, by route. */
export const SCOPES = {
  readStock: 'inventory:read',
  reserveStock: 'inventory:reserve',
  charge: 'billing:charge',
} as const

function newSecret(): string {
  return randomBytes(24).toString('base64url')
}

/**
 * The server configuration for one demo run. inventory-api gets JWT access tokens (checked
 * locally against the issuer's keys), billing-api opaque ones (checked by introspection).
 */
export function createDemoSetup(apis: ApiUrls, tokenLifetimeSec: number): DemoSetup {
  const checkout = { clientId: 'checkout-service', clientSecret: newSecret() }
  const reporting = { clientId: 'reporting-service', clientSecret: newSecret() }
  const billingIntrospection = { clientId: 'billing-api', clientSecret: newSecret() }
  return {
    checkout,
    reporting,
    billingIntrospection,
    config: {
      accessTokenLifetimeSec: tokenLifetimeSec,
      resources: [
        { resource: apis.inventory, tokenFormat: 'jwt' },
        { resource: apis.billing, tokenFormat: 'opaque' },
      ],
      clients: [
        {
          client_id: checkout.clientId,
          client_secret: checkout.clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          scope: `${SCOPES.readStock} ${SCOPES.reserveStock} ${SCOPES.charge}`,
          resources: [apis.inventory, apis.billing],
        },
        {
          client_id: reporting.clientId,
          client_secret: reporting.clientSecret,
          token_endpoint_auth_method: 'client_secret_post',
          scope: SCOPES.readStock,
          resources: [apis.inventory],
        },
        {
          // A resource server, not a service: it may introspect tokens but never obtain one.
          client_id: billingIntrospection.clientId,
          client_secret: billingIntrospection.clientSecret,
          token_endpoint_auth_method: 'client_secret_basic',
          grant_types: [],
        },
      ],
    },
  }
}
