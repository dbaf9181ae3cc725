/**
 * The `m2m-server --config` file: the options of `createAuthorizationServer` as JSON, plus the
 * CLI's own `redis`, held to stricter rules than the registration endpoint. RFC 7591 §2 tells a
 * server to ignore client metadata it does not know, which is right for a client registering
 * itself; in the operator's own file an unknown member is a typo (`"scpoe"`) that would otherwise
 * quietly change what a client may do, so it is refused, with the name it was probably meant to be.
 *
 * @module cli-config-file
 */
import { CliError } from './cli-error.js'
import { readJsonFile } from './cli-json-file.js'
import type { ClientMetadata } from './client-metadata.js'
import type { AuthorizationServerConfig } from './config.js'
import { didYouMean } from './did-you-mean.js'

/** The names of `T`'s declared members, without its index signature. */
type DeclaredKeys<T> = keyof {
  [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K]
}

/**
 * Every member of {@link ClientMetadata} this server reads: a record, so that a member added to
 * the type fails the type check until it is accepted here too.
 */
const READ_CLIENT_MEMBERS: Record<DeclaredKeys<ClientMetadata>, true> = {
  client_id: true,
  client_secret: true,
  client_secrets: true,
  client_secret_hash: true,
  token_endpoint_auth_method: true,
  grant_types: true,
  scope: true,
  jwks: true,
  jwks_uri: true,
  token_endpoint_auth_signing_alg: true,
  resources: true,
  allow_multiple_resources: true,
  dpop_bound_access_tokens: true,
  tls_client_auth_subject_dn: true,
  tls_client_auth_san_dns: true,
  tls_client_auth_san_uri: true,
  tls_client_auth_san_ip: true,
  tls_client_auth_san_email: true,
  tls_client_certificate_bound_access_tokens: true,
}

/**
 * RFC 7591 metadata this server has no use for but accepts in the file (§2, §2.3, §3.2.1), so
 * that a registration copied from elsewhere loads: informational names, URIs and contacts, and the
 * members of a registration answer.
 */
const INFORMATIONAL_CLIENT_MEMBERS = [
  'redirect_uris',
  'response_types',
  'client_name',
  'client_uri',
  'logo_uri',
  'contacts',
  'tos_uri',
  'policy_uri',
  'software_id',
  'software_version',
  'software_statement',
  'client_id_issued_at',
  'client_secret_expires_at',
]

/** RFC 7591 §2.2: human-readable members may carry a language tag, `client_name#ja-Jpan-JP`. */
const LOCALIZABLE_MEMBERS = new Set(['client_name', 'client_uri', 'logo_uri', 'tos_uri', 'policy_uri'])

const READ_NAMES = Object.keys(READ_CLIENT_MEMBERS)
const KNOWN_CLIENT_MEMBERS = new Set([...READ_NAMES, ...INFORMATIONAL_CLIENT_MEMBERS])

/** Options that hold functions or objects with behaviour: settable in code only. */
const CODE_ONLY_OPTIONS = new Set<keyof AuthorizationServerConfig>([
  'beforeSign',
  'store',
  'onInternalError',
  'onRequest',
  'now',
])

/** What the config file holds: the server's options, and the CLI's own. */
export interface ConfigFile {
  /** The options of `createAuthorizationServer`. */
  config: AuthorizationServerConfig
  /** `redis`: the Redis URL of a shared store, as `--redis` gives it. */
  redis?: string
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isKnownClientMember(name: string): boolean {
  if (KNOWN_CLIENT_MEMBERS.has(name)) return true
  const hash = name.indexOf('#')
  return hash > 0 && hash < name.length - 1 && LOCALIZABLE_MEMBERS.has(name.slice(0, hash))
}

function unknownClientMember(field: string, name: string): string {
  const suggestion = didYouMean(name, KNOWN_CLIENT_MEMBERS)
  const known = suggestion === '' ? ` (this server reads ${READ_NAMES.join(', ')})` : suggestion
  return `${field}.${name} is not a client metadata member this server knows${known}`
}

/**
 * Checks what the server's own validation lets through in a file but should not: client members
 * it does not know, and code-only options. Everything else (top-level names included) is checked
 * by `createAuthorizationServer`.
 *
 * @throws {CliError} naming the first such member.
 */
function checkFileOnlyRules(input: Record<string, unknown>, what: string): void {
  for (const key of Object.keys(input)) {
    if (CODE_ONLY_OPTIONS.has(key as keyof AuthorizationServerConfig)) {
      throw new CliError(
        `${what}: ${key} can only be given in code (createAuthorizationServer), not in a file`,
      )
    }
  }
  if (!Array.isArray(input.clients)) return
  input.clients.forEach((client: unknown, i) => {
    if (!isObject(client)) return
    for (const name of Object.keys(client)) {
      if (!isKnownClientMember(name))
        throw new CliError(`${what}: ${unknownClientMember(`clients[${i}]`, name)}`)
    }
  })
}

/**
 * Reads the config file at `path`.
 *
 * @throws {CliError} when it cannot be read, is not JSON (with the line and column), is not an
 *   object, holds a client member this server does not know or a code-only option, or a `redis`
 *   that is not a string. The server's own validation comes after.
 */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  const what = `config file ${path}`
  const input = await readJsonFile(path, what)
  if (!isObject(input)) throw new CliError(`${what} must hold a JSON object`)
  checkFileOnlyRules(input, what)
  const { redis, ...config } = input
  if (redis !== undefined && (typeof redis !== 'string' || redis === '')) {
    throw new CliError(`${what}: redis must be a Redis URL string, such as "redis://localhost:6379/0"`)
  }
  return {
    config: config as unknown as AuthorizationServerConfig,
    ...(redis === undefined ? {} : { redis }),
  }
}
