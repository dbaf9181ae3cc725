/**
 * The command line of `m2m-token`: its flags, their checks, and the help text that lists them
 * with the exit statuses.
 *
 * @module cli/arguments
 */
import { parseArgs } from 'node:util'
import { RESERVED_PARAMS } from '../token-parameters.js'
import { UsageError } from './cli-errors.js'
import type { CredentialFlags } from './client-credentials.js'

/** The help text, printed by `--help`. */
export const USAGE = `Usage: m2m-token (--issuer URL | --token-endpoint URL) --client-id ID [credentials] [options]

Fetches an OAuth 2.0 access token with the client_credentials grant and prints it.

Server:
  --issuer URL                issuer identifier; the token endpoint is discovered (RFC 8414)
  --token-endpoint URL        token endpoint, without discovery
  --allow-insecure-http       allow http: to a host other than loopback, such as a docker-compose
                              service (http://auth:8080); without it only https: and http: to
                              localhost, 127.0.0.0/8 and [::1] are used, since credentials and
                              tokens cross the network in the clear over http:
  --timeout SECONDS           give up after this many seconds (fractions allowed), discovery and
                              retries included; default: 10 per attempt, 30 in all

Credentials (a secret is never taken from the command line, where others can read it):
  --client-id ID              the client's client_id
  --client-secret-file PATH   read the client secret from a file (or a pipe: <(pass show x));
                              one final newline is dropped
  --client-secret-stdin       read the client secret from standard input; one final newline is
                              dropped
  --client-secret-env NAME    read the client secret from environment variable NAME
  --private-key FILE          private key for private_key_jwt: a JWK (JSON) or PEM file
  --kid KID                   key id put in the assertion header (default: the JWK's kid)
  --auth-method METHOD        client_secret_basic (default with a secret), client_secret_post,
                              client_secret_jwt, private_key_jwt (default with a key)

Request:
  --scope SCOPE               scope to request; repeat or separate with spaces
  --resource URI              RFC 8707 resource indicator; repeatable
  --audience AUDIENCE         audience parameter (Auth0's API identifier); repeatable
  --param NAME=VALUE          any other token-request parameter; repeatable (names the client
                              sets itself, such as scope or client_id, are refused)

Cache:
  --cache                     reuse a token from the on-disk cache while it is fresh, and keep
                              a newly fetched one there: $XDG_CACHE_HOME/oauth-m2m (default
                              ~/.cache/oauth-m2m), ~/Library/Caches/oauth-m2m on macOS,
                              %LOCALAPPDATA%\\oauth-m2m on Windows; directory mode 0700, files
                              0600, one per token endpoint, client id, scopes, resources,
                              audiences and parameters. A token is refreshed early, as by the
                              client library: after about 80% of its lifetime

Output (default: the access token alone, on one line):
  --json                      the token endpoint's whole JSON answer plus expires_at (epoch
                              seconds, like a JWT's exp), as one JSON object; errors on stderr
                              as one JSON line: {"error":{"code":"…","message":"…"}}
  --decode                    the header and claims of a JWT access token as one JSON object
                              ({ "header": …, "claims": … }), decoded WITHOUT verifying its
                              signature or claims; never its signature
  --version                   print the version of m2m-token (@oauth-m2m/client)
  -h, --help                  show this help

Exit status:
  0  success: the token (or the --json or --decode output) is on stdout
  1  unexpected failure (a bug: please report it)
  2  usage error: an unknown or missing flag, a bad value, flags that exclude each other,
     a secret given on the command line
  3  configuration error: an unset secret variable, an unreadable secret or key file, empty
     standard input, an http: URL to a host that is not loopback without --allow-insecure-http,
     an invalid URL or scope
  4  the authorization server refused: an OAuth error such as invalid_client or invalid_scope
  5  no answer: a network error, a timeout, or the server unavailable (HTTP 408, 429 or 5xx)
     after the retries; trying again later may succeed
  6  --cache: the cache directory cannot be created or is not a private directory of this user
  7  the server's answer is not a token response: an HTTP error without an OAuth error, a body
     that is not the expected JSON, wrong discovery metadata
  8  --decode: the access token is not a signed JWT (opaque or encrypted); nothing on stdout
`

/** The parsed and checked command line. */
export interface CliArguments {
  issuer: string | undefined
  tokenEndpoint: string | undefined
  clientId: string | undefined
  allowInsecureHttp: boolean
  /** `--timeout`, in ms. */
  timeoutMs: number | undefined
  credentials: CredentialFlags
  scope: string[]
  resource: string[]
  audience: string[]
  extraParams: Record<string, string>
  cache: boolean
  json: boolean
  decode: boolean
  version: boolean
  help: boolean
}

export const OPTIONS = {
  issuer: { type: 'string' },
  'token-endpoint': { type: 'string' },
  'allow-insecure-http': { type: 'boolean' },
  timeout: { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-file': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  'client-secret-env': { type: 'string' },
  'private-key': { type: 'string' },
  kid: { type: 'string' },
  'auth-method': { type: 'string' },
  scope: { type: 'string', multiple: true },
  resource: { type: 'string', multiple: true },
  audience: { type: 'string', multiple: true },
  param: { type: 'string', multiple: true },
  cache: { type: 'boolean' },
  json: { type: 'boolean' },
  decode: { type: 'boolean' },
  version: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const

/** Whether the raw command line asks for JSON errors, even when it cannot be parsed. */
export function wantsJson(argv: readonly string[]): boolean {
  return argv.includes('--json')
}

/**
 * Whether the raw command line tries to pass a secret as a flag value. Checked before parsing, so
 * that the refusal never quotes the value.
 */
export function passesSecretInArgv(argv: readonly string[]): boolean {
  return argv.some((arg) => arg === '--client-secret' || arg.startsWith('--client-secret='))
}

/**
 * Parses and checks `argv`. Only the form is checked here; whether a file can be read or a URL
 * is allowed is the run's business (configuration, exit 3).
 *
 * @throws {UsageError} for anything wrong with the command line.
 */
export function parseArguments(argv: readonly string[]): CliArguments {
  let values: ReturnType<typeof parse>['values']
  try {
    ;({ values } = parse(argv))
  } catch (error) {
    // node:util quotes a stray argument; it may be a secret typed in the wrong place, so not here.
    if ((error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') {
      throw new UsageError(
        'unexpected argument: every value follows its flag (the stray one is not shown: it might be a secret)',
      )
    }
    throw new UsageError((error as Error).message)
  }
  const args: CliArguments = {
    issuer: values.issuer,
    tokenEndpoint: values['token-endpoint'],
    clientId: values['client-id'],
    allowInsecureHttp: values['allow-insecure-http'] === true,
    timeoutMs: values.timeout === undefined ? undefined : timeoutMsOf(values.timeout),
    credentials: {
      'client-secret-file': values['client-secret-file'],
      'client-secret-stdin': values['client-secret-stdin'],
      'client-secret-env': values['client-secret-env'],
      'private-key': values['private-key'],
      kid: values.kid,
      'auth-method': values['auth-method'],
    },
    scope: values.scope ?? [],
    resource: values.resource ?? [],
    audience: values.audience ?? [],
    extraParams: extraParamsFrom(values.param ?? []),
    cache: values.cache === true,
    json: values.json === true,
    decode: values.decode === true,
    version: values.version === true,
    help: values.help === true,
  }
  if (args.help || args.version) return args
  if (args.issuer === undefined && args.tokenEndpoint === undefined) {
    throw new UsageError('give --issuer or --token-endpoint')
  }
  if (args.clientId === undefined) throw new UsageError('give --client-id')
  return args
}

function parse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], strict: true, allowPositionals: false, options: OPTIONS })
}

/** Longest `--timeout`, in s: a day. A larger value is a mistake (milliseconds given as seconds?). */
const MAX_TIMEOUT_SEC = 86_400

/** `--timeout SECONDS` in ms: a positive decimal number of seconds, at least 1 ms. */
function timeoutMsOf(value: string): number {
  const seconds = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN
  if (!(seconds >= 0.001 && seconds <= MAX_TIMEOUT_SEC)) {
    throw new UsageError(
      `--timeout takes a number of seconds from 0.001 to ${MAX_TIMEOUT_SEC}, not ${JSON.stringify(value)}`,
    )
  }
  return Math.round(seconds * 1000)
}

/** The flag that sets a parameter the client sends itself, for the usage error. */
const FLAG_FOR_PARAM: Readonly<Record<string, string>> = {
  scope: '--scope',
  resource: '--resource',
  audience: '--audience',
}

/** `--param NAME=VALUE` values as extra parameters, refusing names the client sets itself. */
function extraParamsFrom(params: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const param of params) {
    const at = param.indexOf('=')
    if (at <= 0) throw new UsageError(`--param takes NAME=VALUE, not ${JSON.stringify(param)}`)
    const name = param.slice(0, at)
    if (RESERVED_PARAMS.has(name)) {
      const flag = FLAG_FOR_PARAM[name]
      throw new UsageError(
        flag === undefined
          ? `--param cannot set ${name}: m2m-token sets it itself`
          : `--param cannot set ${name}: use ${flag}`,
      )
    }
    if (Object.hasOwn(out, name)) throw new UsageError(`--param ${name} is given twice`)
    out[name] = param.slice(at + 1)
  }
  return out
}
