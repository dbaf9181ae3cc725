/**
 * Test clients: fills in the credentials a test should not have to invent (a random secret, a
 * fresh key pair for `private_key_jwt`) and keeps them, so that a test can ask for a client's
 * credentials by id and pass them straight to `createTokenClient`.
 *
 * @module test-clients
 */
import { generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import {
  type ClientAuthStrategy,
  ConfigurationError,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  privateKeyJwt,
} from '@oauth-m2m/core'
import type { ClientMetadata, TokenEndpointAuthMethod } from '@oauth-m2m/server'
import type { JWK } from 'jose'

/**
 * A client to register on the test server, in `options.clients` at start or with
 * `createClient(id, metadata)` while it runs: RFC 7591 metadata as the server takes it, except
 * that nothing secret is required. Without `client_secret`/`client_secrets`, a random secret is made for
 * the secret methods; a `private_key_jwt` client without `jwks`/`jwks_uri` gets a new P-256 key
 * pair whose public half is registered and whose private half the credentials carry.
 */
export type TestClientMetadata = ClientMetadata

/** What a test needs to act as one registered client. Spread it into `createTokenClient`. */
export interface TestClientCredentials {
  /** The `client_id`. */
  readonly clientId: string
  /** A ready authentication strategy for the client's registered method. */
  readonly auth: ClientAuthStrategy
  /** The issuer identifier; `createTokenClient` uses it for discovery when `tokenEndpoint` is absent. */
  readonly issuer: string
  /** The token endpoint URL. */
  readonly tokenEndpoint: string
  /** The client's registered method. */
  readonly authMethod: TokenEndpointAuthMethod
  /** Every scope the client may request, space-separated (what it gets when it asks for none). */
  readonly registeredScope: string
  /** The client's first secret, for the secret methods; `undefined` for `private_key_jwt`. */
  readonly clientSecret: string | undefined
  /** The private JWK (with `kid` and `alg`) of a generated `private_key_jwt` key; else `undefined`. */
  readonly privateKey: JWK | undefined
}

/** A client as registered, with the secret material the test side keeps. */
export interface PreparedTestClient {
  /** The metadata given to the server, generated credentials included. */
  readonly metadata: ClientMetadata
  /** Builds the credentials once the issuer and token endpoint are known. */
  credentials(issuer: string, tokenEndpoint: string): TestClientCredentials
}

function randomSecret(): string {
  return randomBytes(32).toString('base64url')
}

function generatePrivateJwk(): JWK {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' }
}

function publicPart(jwk: JWK): JWK {
  const { d: _private, ...publicJwk } = jwk
  return publicJwk
}

function firstSecret(metadata: ClientMetadata): string | undefined {
  return metadata.client_secret ?? metadata.client_secrets?.[0]
}

function authFor(
  clientId: string,
  method: TokenEndpointAuthMethod,
  secret: string | undefined,
  privateKey: JWK | undefined,
): ClientAuthStrategy {
  const missing = (what: string): never => {
    throw new ConfigurationError(
      `@oauth-m2m/testing: client "${clientId}" was registered with its own ${what}, so the test server cannot act as it; leave the ${what} out to have one generated`,
    )
  }
  switch (method) {
    case 'client_secret_basic':
      return clientSecretBasic(secret ?? missing('secret hash'))
    case 'client_secret_post':
      return clientSecretPost(secret ?? missing('secret hash'))
    case 'client_secret_jwt':
      return clientSecretJwt(secret ?? missing('secret'))
    case 'private_key_jwt':
      return privateKeyJwt((privateKey ?? missing('jwks')) as Parameters<typeof privateKeyJwt>[0])
    default:
      // `none`, and methods whose credential is not the test server's to make (a TLS certificate).
      throw new ConfigurationError(
        `@oauth-m2m/testing: client "${clientId}" uses token_endpoint_auth_method "${method}", for which there are no credentials to give`,
      )
  }
}

/**
 * Completes `metadata` with generated credentials where they are missing.
 *
 * @throws {ConfigurationError} when `metadata` is not an object with a `client_id` string.
 */
export function prepareTestClient(metadata: TestClientMetadata): PreparedTestClient {
  if (typeof metadata !== 'object' || metadata === null || typeof metadata.client_id !== 'string') {
    throw new ConfigurationError('@oauth-m2m/testing: every client needs a client_id string')
  }
  const method = metadata.token_endpoint_auth_method ?? 'client_secret_basic'
  const completed: ClientMetadata = { ...metadata }
  const hasSecret =
    metadata.client_secret !== undefined ||
    metadata.client_secrets !== undefined ||
    metadata.client_secret_hash !== undefined
  if (method !== 'private_key_jwt' && method !== 'none' && !hasSecret) {
    completed.client_secret = randomSecret()
  }
  let privateKey: JWK | undefined
  if (method === 'private_key_jwt' && metadata.jwks === undefined && metadata.jwks_uri === undefined) {
    privateKey = generatePrivateJwk()
    completed.jwks = { keys: [publicPart(privateKey)] } as ClientMetadata['jwks']
  }
  const secret = firstSecret(completed)
  const clientId = completed.client_id
  return {
    metadata: completed,
    credentials(issuer, tokenEndpoint) {
      return Object.freeze({
        clientId,
        auth: authFor(clientId, method, secret, privateKey),
        issuer,
        tokenEndpoint,
        authMethod: method,
        registeredScope: (completed.scope ?? '').split(' ').filter(Boolean).join(' '),
        clientSecret: method === 'private_key_jwt' ? undefined : secret,
        privateKey: privateKey === undefined ? undefined : { ...privateKey },
      })
    },
  }
}
