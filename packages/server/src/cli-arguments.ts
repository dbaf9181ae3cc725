/**
 * The command line of `m2m-server`: its usage text and the parsed options.
 *
 * @module cli-arguments
 */
import { type ParseArgsConfig, parseArgs } from 'node:util'
import { CliError, EXIT_CODES } from './cli-error.js'
import { LOG_LEVELS, type LogLevel, parseLogLevel } from './cli-request-log.js'

/** The port without `--port`. */
export const DEFAULT_PORT = 8080
/** The longest wait for requests in flight at shutdown without `--shutdown-timeout`, in seconds. */
export const DEFAULT_SHUTDOWN_TIMEOUT_SEC = 10
/** The environment variable holding the key-encryption key of `--redis`. */
export const KEY_ENCRYPTION_KEY_ENV = 'M2M_KEY_ENCRYPTION_KEY'
/** The environment variable holding earlier (or next) key-encryption keys, comma-separated. */
export const KEY_ENCRYPTION_KEY_FALLBACKS_ENV = 'M2M_KEY_ENCRYPTION_KEY_FALLBACKS'

export const USAGE = `Usage: m2m-server [options]
       m2m-server register --server URL [options]   (registers a client: m2m-server register --help)

Runs an OAuth 2.0 authorization server for the client_credentials grant.

Options:
  --config FILE   JSON configuration file (see the README); without it, a demo client is generated
                  and its client_id and client_secret are printed once
  --port N        TCP port (default ${DEFAULT_PORT}); 0 for any free port
  --host HOST     address to bind (default 127.0.0.1; 0.0.0.0 or :: for every interface)
  --issuer URL    issuer identifier (default: the config's issuer, else the listening URL)
  --profile NAME  fapi2: the FAPI 2.0 Security Profile (overrides the config's profile; needs
                  --config, as the demo client's shared secret is refused under it)
  --tls-cert FILE serve HTTPS with this certificate (PEM); needs --tls-key. Client certificates
                  are asked for, not required: secret clients use the same listener
  --tls-key FILE  the private key of --tls-cert (PEM)
  --tls-ca FILE   CA certificates (PEM) that issue client certificates: turns mutual TLS on
                  (RFC 8705) as the config's mtls.ca, which it replaces; needs --tls-cert
  --keys-file FILE
                  keep the signing keys in FILE across restarts: created (mode 0600) when missing,
                  loaded when present; refused when others may read it
  --redis URL     keep the server's state in Redis, shared by every instance on it
                  (redis://[user:password@]host:port/db; also the config's "redis"); needs
                  @oauth-m2m/redis installed, and a key-encryption key:
  --key-encryption-key-file FILE
                  the key that encrypts private signing keys in Redis: 32 random bytes, base64url
                  (default: the ${KEY_ENCRYPTION_KEY_ENV} environment variable);
                  ${KEY_ENCRYPTION_KEY_FALLBACKS_ENV} (comma-separated) holds keys still read
                  while the key changes, and what is under them is rewritten after the start
  --log-level L   ${LOG_LEVELS.join(', ')} (default info): one JSON line per request
                  on stdout (health probes at debug, 5xx at error)
  --shutdown-timeout SECONDS
                  on SIGTERM or SIGINT, how long requests in flight may take before the process
                  exits anyway (default ${DEFAULT_SHUTDOWN_TIMEOUT_SEC})
  --dev           not here: the development server is \`npx m2m-test-server\` (@oauth-m2m/testing)
  --version       print the version of m2m-server (@oauth-m2m/server)
  -h, --help      show this help

Prints "listening on <url>" once ready. SIGTERM or SIGINT stops accepting connections, lets the
requests in flight finish, and exits.

Exit codes:
  0  stopped by SIGTERM or SIGINT after answering every request in flight (or --help, --version)
  1  could not start (config file, keys file, port, Redis, a missing package), or the shutdown
     had to cut requests in flight (time limit, or a second signal)
  2  wrong command line
`

/** The parsed command line. */
export interface CliArguments {
  config: string | undefined
  port: number
  host: string
  issuer: string | undefined
  profile: string | undefined
  tlsCert: string | undefined
  tlsKey: string | undefined
  tlsCa: string | undefined
  keysFile: string | undefined
  redis: string | undefined
  keyEncryptionKeyFile: string | undefined
  logLevel: LogLevel
  /** `--shutdown-timeout`, in ms. */
  shutdownTimeoutMs: number
  help: boolean
  version: boolean
}

/**
 * The development server needs the test helpers and provider profiles of @oauth-m2m/testing,
 * which depends on this package: it cannot live here without a dependency cycle.
 */
const DEV_MOVED =
  '--dev is not part of m2m-server: run `npx m2m-test-server` from @oauth-m2m/testing (seeded keys, --profile, admin endpoint)'

function usageError(message: string): CliError {
  return new CliError(`${message}\n\n${USAGE}`, EXIT_CODES.usage)
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_PORT
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535) throw usageError('--port must be an integer from 0 to 65535')
  return port
}

/** Longest `--shutdown-timeout`, in s: an hour; a larger value is a mistake (milliseconds?). */
const MAX_SHUTDOWN_TIMEOUT_SEC = 3600

function parseShutdownTimeoutMs(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SHUTDOWN_TIMEOUT_SEC * 1000
  const seconds = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || seconds <= 0 || seconds > MAX_SHUTDOWN_TIMEOUT_SEC) {
    throw usageError(
      `--shutdown-timeout takes a number of seconds above 0, at most ${MAX_SHUTDOWN_TIMEOUT_SEC}`,
    )
  }
  return Math.max(1, Math.round(seconds * 1000))
}

/** The options `m2m-server` takes, as `parseArgs` reads them (each one listed in {@link USAGE}). */
export const OPTIONS = {
  config: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  issuer: { type: 'string' },
  profile: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'keys-file': { type: 'string' },
  redis: { type: 'string' },
  'key-encryption-key-file': { type: 'string' },
  'log-level': { type: 'string' },
  'shutdown-timeout': { type: 'string' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsConfig['options']

/**
 * Parses the command line (without the node and script paths).
 *
 * @throws {CliError} (usage) for an unknown option, a bad value, or options that do not go
 *   together.
 */
export function parseCliArguments(argv: string[]): CliArguments {
  // Before parsing: `--dev` comes with the development server's own options (`--seed`, `--profile`),
  // which would otherwise be refused as unknown before the pointer to the right command is shown.
  const options = argv.indexOf('--') === -1 ? argv : argv.slice(0, argv.indexOf('--'))
  if (options.includes('--dev')) throw new CliError(DEV_MOVED, EXIT_CODES.usage)
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    throw usageError((error as Error).message)
  }
  const text = (name: string): string | undefined => values[name] as string | undefined
  const args: CliArguments = {
    config: text('config'),
    port: parsePort(text('port')),
    host: text('host') ?? '127.0.0.1',
    issuer: text('issuer'),
    profile: text('profile'),
    tlsCert: text('tls-cert'),
    tlsKey: text('tls-key'),
    tlsCa: text('tls-ca'),
    keysFile: text('keys-file'),
    redis: text('redis'),
    keyEncryptionKeyFile: text('key-encryption-key-file'),
    logLevel: 'info',
    shutdownTimeoutMs: parseShutdownTimeoutMs(text('shutdown-timeout')),
    help: values.help === true,
    version: values.version === true,
  }
  try {
    args.logLevel = parseLogLevel(text('log-level'))
  } catch (error) {
    throw usageError((error as Error).message)
  }
  if (args.help || args.version) return args
  if ((args.tlsCert === undefined) !== (args.tlsKey === undefined)) {
    throw usageError('--tls-cert and --tls-key go together')
  }
  if (args.tlsCa !== undefined && args.tlsCert === undefined) {
    throw usageError('--tls-ca needs --tls-cert and --tls-key (a TLS listener)')
  }
  if (args.profile !== undefined && args.config === undefined) {
    throw usageError(
      `--profile ${args.profile} needs --config: the demo client authenticates with a shared secret`,
    )
  }
  if (args.keysFile !== undefined && args.redis !== undefined) {
    throw usageError(
      '--keys-file and --redis do not go together: with --redis the signing keys live in Redis',
    )
  }
  if (args.keyEncryptionKeyFile !== undefined && args.redis === undefined && args.config === undefined) {
    throw usageError('--key-encryption-key-file is for --redis (or a config file with "redis")')
  }
  return args
}
