/**
 * The `startAuthorizationServer` options of one `m2m-test-server` run: the config file's, the
 * command line's over them, and with `--seed` the seeded signing key and client secrets.
 *
 * @module cli/dev-server-options
 */
import { SIGNING_ALGS, type SigningAlg } from '@oauth-m2m/server'
import type { ProfileName } from '../profiles/provider-profile.js'
import type { StartAuthorizationServerOptions } from '../start-authorization-server.js'
import type { CliArguments } from './cli-arguments.js'
import { CliError, USAGE_EXIT_CODE } from './cli-error.js'
import { seededSigningJwk } from './seeded-signing-key.js'
import { seededSecret } from './seeded-values.js'

/** The options to start with, and the profile they name. */
export interface DevServerOptions {
  /** What to pass to `startAuthorizationServer`. */
  readonly options: StartAuthorizationServerOptions
  /** The name of the profile `options` set. */
  readonly profile: ProfileName
}

/** The seed label of a client's secret. The default client's id may be the profile's, so it has its own. */
export function clientSecretLabel(clientId: string | undefined): string {
  return clientId === undefined ? 'client-secret default-client' : `client-secret ${clientId}`
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Whether the test server would generate a secret for this client (a secret method, none given). */
function needsSecret(client: Record<string, unknown>): boolean {
  const method = client.token_endpoint_auth_method ?? 'client_secret_basic'
  return (
    method !== 'private_key_jwt' &&
    method !== 'none' &&
    client.client_secret === undefined &&
    client.client_secrets === undefined &&
    client.client_secret_hash === undefined
  )
}

function withSeededSecret<T extends Record<string, unknown>>(client: T, seed: string, label: string): T {
  return needsSecret(client) ? { ...client, client_secret: seededSecret(seed, label) } : client
}

function profileName(profile: unknown): ProfileName {
  if (typeof profile === 'string') return profile as ProfileName
  if (isObject(profile) && typeof profile.name === 'string') return profile.name as ProfileName
  return 'rfc9068'
}

/**
 * Completes the options of a run.
 *
 * @param file The config file's options (`{}` without `--config`).
 * @throws {CliError} with exit code 2 when `--client-id`/`--scope` meet `defaultClient: false`.
 */
export async function devServerOptions(
  args: CliArguments,
  file: Readonly<Record<string, unknown>>,
): Promise<DevServerOptions> {
  const options: Record<string, unknown> = { ...file }
  if (args.port !== undefined) options.port = args.port
  if (args.host !== undefined) options.host = args.host
  if (args.profile !== undefined && profileName(options.profile) !== args.profile) {
    // The file's settings of the same profile (a tenant id, …) stay; another profile's do not.
    options.profile = args.profile
  }
  // A suite outside Node cannot be given a dispatcher: the provider's paths on this origin.
  options.issuerOrigin ??= 'server'

  const demoChanges: Record<string, unknown> = {}
  if (args.clientId !== undefined) demoChanges.client_id = args.clientId
  if (args.scope !== undefined) demoChanges.scope = args.scope
  if (options.defaultClient === false) {
    if (Object.keys(demoChanges).length > 0) {
      throw new CliError(
        '--client-id and --scope change the demo client, which the config file turns off (defaultClient: false)',
        USAGE_EXIT_CODE,
      )
    }
  } else {
    const base = isObject(options.defaultClient) ? options.defaultClient : {}
    options.defaultClient = { ...base, ...demoChanges }
  }

  const { seed } = args
  const profile = profileName(options.profile)
  if (seed !== undefined) {
    if (isObject(options.defaultClient)) {
      const id = options.defaultClient.client_id
      options.defaultClient = withSeededSecret(
        options.defaultClient,
        seed,
        clientSecretLabel(typeof id === 'string' ? id : undefined),
      )
    }
    if (Array.isArray(options.clients)) {
      options.clients = options.clients.map((client: unknown) =>
        isObject(client) && typeof client.client_id === 'string'
          ? withSeededSecret(client, seed, clientSecretLabel(client.client_id))
          : client,
      )
    }
    const signing = isObject(options.signing) ? options.signing : {}
    // Every provider profile signs with RS256; the reference server's default is ES256.
    const alg = signing.alg ?? (profile === 'rfc9068' ? 'ES256' : 'RS256')
    // An unknown `alg` is left for the server to refuse, by name.
    if (signing.keys === undefined && (SIGNING_ALGS as readonly unknown[]).includes(alg)) {
      options.signing = { ...signing, keys: [await seededSigningJwk(seed, alg as SigningAlg)] }
    }
  }
  return { options: options as StartAuthorizationServerOptions, profile }
}
