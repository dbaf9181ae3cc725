/**
 * `m2m-server register`: registers a client at a running server's registration endpoint
 * (RFC 7591), found through the server's metadata, and prints the answer once as JSON. The initial
 * access token comes from a file or stdin, never from the command line, where `ps` and the shell
 * history would show it.
 *
 * @module cli-register
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { discover } from '@oauth-m2m/core'
import { createRedactor, requestJson } from '@oauth-m2m/core/internal'

/** The help text of `m2m-server register`. */
export const REGISTER_USAGE = `Usage: m2m-server register --server URL [options]

Registers a client at a running server's registration endpoint (RFC 7591) and prints the
answer once, as JSON: client_id, client_secret (for the secret methods), client_secret_expires_at,
registration_access_token and registration_client_uri, and the registered metadata. Nothing is
kept: store the secret and the registration access token now.

Options:
  --server URL           issuer of the running server; its metadata names the registration endpoint
  --token-file FILE      file holding the initial access token; "-" reads it from stdin. Leave it
                         out for a server with open registration. Never given on the command line
  --scope SCOPE          scope of the client, space-separated (quote it)
  --auth-method METHOD   client_secret_basic (default), client_secret_post, private_key_jwt,
                         tls_client_auth, self_signed_tls_client_auth
  --jwks-file FILE       JWK Set (public keys) for private_key_jwt or self_signed_tls_client_auth
  --client-name NAME     client_name shown in the registration
  --metadata-file FILE   further client metadata, a JSON object (the flags above win)
  --allow-insecure-http  accept an http:// server that is not on loopback (the token travels in clear)
  --timeout-ms N         time limit of each request, in milliseconds (default 10000)
  -h, --help             show this help

Exit codes: 0 registered, 1 refused or failed, 2 wrong command line.
`

/** A failure reported on stderr in one line; its message holds no secret. */
class RegisterError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
  ) {
    super(message)
  }
}

interface RegisterArguments {
  server: string
  tokenFile: string | undefined
  scope: string | undefined
  authMethod: string | undefined
  jwksFile: string | undefined
  clientName: string | undefined
  metadataFile: string | undefined
  allowInsecureHttp: boolean
  timeoutMs: number
}

function parseRegisterArguments(argv: string[]): RegisterArguments | 'help' {
  let values: Record<string, string | boolean | undefined>
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: {
        server: { type: 'string' },
        'token-file': { type: 'string' },
        scope: { type: 'string' },
        'auth-method': { type: 'string' },
        'jwks-file': { type: 'string' },
        'client-name': { type: 'string' },
        'metadata-file': { type: 'string' },
        'allow-insecure-http': { type: 'boolean' },
        'timeout-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    // node:util names the unknown option, never a value.
    throw new RegisterError(`${(error as Error).message}\n\n${REGISTER_USAGE}`, 2)
  }
  if (values.help === true) return 'help'
  const server = values.server as string | undefined
  if (server === undefined) throw new RegisterError(`--server is required\n\n${REGISTER_USAGE}`, 2)
  const timeout = (values['timeout-ms'] as string | undefined) ?? '10000'
  if (!/^[1-9]\d{0,6}$/.test(timeout)) throw new RegisterError('--timeout-ms must be a positive integer', 2)
  return {
    server,
    tokenFile: values['token-file'] as string | undefined,
    scope: values.scope as string | undefined,
    authMethod: values['auth-method'] as string | undefined,
    jwksFile: values['jwks-file'] as string | undefined,
    clientName: values['client-name'] as string | undefined,
    metadataFile: values['metadata-file'] as string | undefined,
    allowInsecureHttp: values['allow-insecure-http'] === true,
    timeoutMs: Number(timeout),
  }
}

async function readText(file: string, flag: string, stdin: () => Promise<string>): Promise<string> {
  if (file === '-') return stdin()
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code
    throw new RegisterError(`cannot read ${flag} file ${file}${typeof code === 'string' ? ` (${code})` : ''}`)
  }
}

async function readJsonObject(
  file: string,
  flag: string,
  stdin: () => Promise<string>,
): Promise<Record<string, unknown>> {
  const text = await readText(file, flag, stdin)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new RegisterError(`${flag} file ${file} is not valid JSON`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RegisterError(`${flag} file ${file} must hold a JSON object`)
  }
  return value as Record<string, unknown>
}

/** The metadata to register: the metadata file, with the flags over it. */
async function requestedMetadata(
  args: RegisterArguments,
  stdin: () => Promise<string>,
): Promise<Record<string, unknown>> {
  const metadata =
    args.metadataFile === undefined ? {} : await readJsonObject(args.metadataFile, '--metadata-file', stdin)
  if (args.scope !== undefined) metadata.scope = args.scope
  if (args.authMethod !== undefined) metadata.token_endpoint_auth_method = args.authMethod
  if (args.clientName !== undefined) metadata.client_name = args.clientName
  if (args.jwksFile !== undefined) metadata.jwks = await readJsonObject(args.jwksFile, '--jwks-file', stdin)
  return metadata
}

async function initialAccessToken(
  args: RegisterArguments,
  stdin: () => Promise<string>,
): Promise<string | undefined> {
  if (args.tokenFile === undefined) return undefined
  const token = (await readText(args.tokenFile, '--token-file', stdin)).trim()
  if (token === '' || /\s/.test(token)) {
    throw new RegisterError(`--token-file ${args.tokenFile} must hold one initial access token on one line`)
  }
  return token
}

/** The registration endpoint the server's metadata names. */
async function registrationEndpoint(args: RegisterArguments): Promise<string> {
  let metadata: Awaited<ReturnType<typeof discover>>
  try {
    metadata = await discover(args.server, {
      allowInsecureHttp: args.allowInsecureHttp,
      timeoutMs: args.timeoutMs,
      cacheTtlMs: 0,
    })
  } catch (error) {
    throw new RegisterError((error as Error).message)
  }
  const endpoint = metadata.registration_endpoint
  if (typeof endpoint !== 'string') {
    throw new RegisterError(
      `${args.server} offers no client registration: its metadata has no registration_endpoint`,
    )
  }
  return endpoint
}

function describeRefusal(status: number, body: unknown): string {
  const { error, error_description: description } = (body ?? {}) as Record<string, unknown>
  const code = typeof error === 'string' ? ` ${error}` : ''
  const why = typeof description === 'string' ? `: ${description}` : ''
  return `registration refused: ${status}${code}${why}`
}

/** Where the command reads and writes; the process's own streams by default. */
export interface RegisterIo {
  /** The whole of standard input. */
  stdin(): Promise<string>
  stdout(text: string): void
  stderr(text: string): void
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

const PROCESS_IO: RegisterIo = {
  stdin: readStdin,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
}

async function register(argv: string[], io: RegisterIo): Promise<void> {
  const args = parseRegisterArguments(argv)
  if (args === 'help') {
    io.stdout(REGISTER_USAGE)
    return
  }
  // Standard input is read once, whichever file asks for it.
  let stdinText: Promise<string> | undefined
  const stdin = () => {
    stdinText ??= io.stdin()
    return stdinText
  }
  const token = await initialAccessToken(args, stdin)
  const metadata = await requestedMetadata(args, stdin)
  const endpoint = await registrationEndpoint(args)
  let answer: Awaited<ReturnType<typeof requestJson>>
  try {
    answer = await requestJson(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(metadata),
      timeoutMs: args.timeoutMs,
      purpose: 'registration endpoint',
      redactor: createRedactor(token === undefined ? [] : [token]),
    })
  } catch (error) {
    throw new RegisterError((error as Error).message)
  }
  if (answer.status !== 201) throw new RegisterError(describeRefusal(answer.status, answer.body))
  io.stdout(`${JSON.stringify(answer.body, null, 2)}\n`)
}

/**
 * Runs `m2m-server register` with the arguments after `register`.
 *
 * @returns The exit code: 0 registered, 1 refused or failed, 2 wrong command line. Never rejects.
 */
export async function runRegisterCommand(argv: string[], io: RegisterIo = PROCESS_IO): Promise<number> {
  try {
    await register(argv, io)
    return 0
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    io.stderr(`m2m-server register: ${message}\n`)
    return error instanceof RegisterError ? error.exitCode : 1
  }
}
