/**
 * The command line of `m2m-test-server`: its usage text and the options read from `argv`.
 *
 * @module cli/cli-arguments
 */
import { parseArgs } from 'node:util'
import { isLoopbackHostname } from '@oauth-m2m/core/internal'
import { PROFILE_NAMES, type ProfileName } from '../profiles/provider-profile.js'
import { CliError, USAGE_EXIT_CODE } from './cli-error.js'

/** The usage text `--help` prints. */
export const USAGE = `Usage: m2m-test-server [options]

Runs the test authorization server of @oauth-m2m/testing on loopback, for test suites that are
not written for Node: a demo client printed once, deterministic keys and secrets with --seed,
tokens shaped like a provider's with --profile, and an admin endpoint that registers clients,
mints tokens, moves the clock and injects failures over HTTP.

Options:
  --port N          TCP port, 0 for any free port (default 0)
  --host HOST       loopback address to bind: 127.0.0.1 (default), ::1 or localhost
  --seed S          derive the signing key, client secrets and generated client ids from S, so
                    every run with the same S has the same ones. RSA keys (RS256, the key type of
                    every provider profile) take a few seconds to derive
  --profile NAME    answer like this provider: rfc9068 (default), entra, auth0, okta, keycloak,
                    cognito. Its URLs are served on this server's origin
  --client-id ID    client_id of the demo client (default: test-client, or the profile's)
  --scope "A B"     scopes of the demo client (default: read write, or the profile's)
  --admin           serve the admin endpoint (default)
  --no-admin        no admin endpoint
  --admin-port N    TCP port of the admin endpoint (default 0)
  --config FILE     JSON file of startAuthorizationServer options (clients, resources, profile
                    settings, tokenFormat, accessTokenLifetimeSec, …); the options above win
  -h, --help        show this help

Prints the demo client, the settings a verifier needs, "admin on <url>" and, last,
"listening on <url>"; SIGINT or SIGTERM stops it. Exit code 2 for a usage error.
`

/** The options of one run. */
export interface CliArguments {
  /** `--port`; `undefined` leaves it to the config file, else 0. */
  readonly port: number | undefined
  /** `--host`, a loopback address; `undefined` leaves it to the config file, else `127.0.0.1`. */
  readonly host: string | undefined
  /** `--seed`: derive keys, secrets and generated client ids from it. */
  readonly seed: string | undefined
  /** `--profile`; `undefined` leaves it to the config file, else `rfc9068`. */
  readonly profile: ProfileName | undefined
  /** `--client-id` of the demo client. */
  readonly clientId: string | undefined
  /** `--scope` of the demo client, space-separated. */
  readonly scope: string | undefined
  /** Whether the admin endpoint runs: `true` unless `--no-admin`. */
  readonly admin: boolean
  /** `--admin-port`, 0 for a free port. */
  readonly adminPort: number
  /** `--config FILE`. */
  readonly config: string | undefined
  /** `--help`. */
  readonly help: boolean
}

function usageError(message: string): CliError {
  return new CliError(`${message} (see m2m-test-server --help)`, USAGE_EXIT_CODE)
}

function parsePort(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535) throw usageError(`${option} must be an integer from 0 to 65535`)
  return port
}

function nonEmpty(value: string | undefined, option: string): string | undefined {
  if (value !== undefined && value.trim() === '') throw usageError(`${option} must not be empty`)
  return value
}

/**
 * Reads `argv` (without the node and script paths).
 *
 * @throws {CliError} with exit code 2 for an unknown option, a missing or bad value.
 */
export function parseCliArguments(argv: readonly string[]): CliArguments {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: [...argv],
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        seed: { type: 'string' },
        profile: { type: 'string' },
        'client-id': { type: 'string' },
        scope: { type: 'string' },
        admin: { type: 'boolean' },
        'no-admin': { type: 'boolean' },
        'admin-port': { type: 'string' },
        config: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    // parseArgs says which option and why in one sentence.
    throw usageError((error as Error).message.split('\n')[0] ?? 'invalid arguments')
  }
  const text = (name: string): string | undefined => values[name] as string | undefined
  const host = text('host')
  if (host !== undefined && !isLoopbackHostname(host)) {
    throw usageError('--host must be a loopback address (127.0.0.0/8, ::1 or localhost)')
  }
  const profile = text('profile')
  if (profile !== undefined && !(PROFILE_NAMES as readonly string[]).includes(profile)) {
    throw usageError(`--profile must be one of ${PROFILE_NAMES.join(', ')}`)
  }
  if (values.admin === true && values['no-admin'] === true) {
    throw usageError('--admin and --no-admin exclude each other')
  }
  const admin = values['no-admin'] !== true
  const adminPort = parsePort(text('admin-port'), '--admin-port')
  if (adminPort !== undefined && !admin) throw usageError('--admin-port needs the admin endpoint')
  return {
    port: parsePort(text('port'), '--port'),
    host,
    seed: nonEmpty(text('seed'), '--seed'),
    profile: profile as ProfileName | undefined,
    clientId: nonEmpty(text('client-id'), '--client-id'),
    scope: nonEmpty(text('scope'), '--scope'),
    admin,
    adminPort: adminPort ?? 0,
    config: nonEmpty(text('config'), '--config'),
    help: values.help === true,
  }
}
