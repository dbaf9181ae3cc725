/**
 * How `m2m-token` authenticates, from its flags: a client secret read from a file, from standard
 * input or from an environment variable, or a private key read from a file. Never from the
 * command line itself, which other users of the machine can read (`ps`, `/proc/<pid>/cmdline`)
 * and shells keep in their history.
 *
 * @module cli/client-credentials
 */
import { createReadStream } from 'node:fs'
import {
  type ClientAuthStrategy,
  ConfigurationError,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  privateKeyJwt,
} from '@oauth-m2m/core'
import type { JWK } from 'jose'
import { UsageError } from './cli-errors.js'

/** The credential flags of `m2m-token`. */
export interface CredentialFlags {
  'client-secret-file'?: string | undefined
  'client-secret-stdin'?: boolean | undefined
  'client-secret-env'?: string | undefined
  'private-key'?: string | undefined
  kid?: string | undefined
  'auth-method'?: string | undefined
}

/** Where standard input and the environment come from. */
export interface CredentialSources {
  stdin: AsyncIterable<Buffer | string>
  env: Readonly<Record<string, string | undefined>>
}

/** A client authentication strategy and the credential strings it holds, to scrub from any message. */
export interface ClientCredentials {
  auth: ClientAuthStrategy
  /** The secret read, when one was: never printed. */
  sensitive: readonly string[]
}

/** Largest secret read from a file or standard input, in bytes: more is not a client secret. */
export const MAX_SECRET_BYTES = 64 * 1024

/** Largest private key file read, in bytes. */
const MAX_KEY_FILE_BYTES = 1024 * 1024

const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt'])

/** A POSIX environment variable name: anything else given to `--client-secret-env` is likely the secret itself. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * The strategy the flags ask for.
 *
 * @throws {UsageError} when the flags contradict each other or name an unknown method.
 * @throws {ConfigurationError} when the secret or key they point at cannot be read or is empty.
 */
export async function clientCredentials(
  flags: CredentialFlags,
  sources: CredentialSources,
): Promise<ClientCredentials> {
  const given = (
    [
      ['--client-secret-file', flags['client-secret-file'] !== undefined],
      ['--client-secret-stdin', flags['client-secret-stdin'] === true],
      ['--client-secret-env', flags['client-secret-env'] !== undefined],
      ['--private-key', flags['private-key'] !== undefined],
    ] as const
  )
    .filter(([, present]) => present)
    .map(([flag]) => flag)
  if (given.length > 1) throw new UsageError(`give one of ${given.join(', ')}, not several`)
  const keyFile = flags['private-key']
  const method = flags['auth-method'] ?? (keyFile !== undefined ? 'private_key_jwt' : 'client_secret_basic')
  if (method === 'private_key_jwt') {
    if (keyFile === undefined) throw new UsageError('private_key_jwt needs --private-key FILE')
    const key = await readPrivateKey(keyFile)
    return { auth: privateKeyJwt(key, flags.kid === undefined ? {} : { kid: flags.kid }), sensitive: [] }
  }
  if (!SECRET_METHODS.has(method)) throw new UsageError(`unknown --auth-method ${method}`)
  if (keyFile !== undefined) throw new UsageError(`--private-key is for private_key_jwt, not ${method}`)
  if (given.length === 0) {
    throw new UsageError(
      `${method} needs a secret: --client-secret-file PATH, --client-secret-stdin or --client-secret-env NAME`,
    )
  }
  const secret = await readSecret(flags, sources)
  const auth =
    method === 'client_secret_post'
      ? clientSecretPost(secret)
      : method === 'client_secret_jwt'
        ? clientSecretJwt(secret)
        : clientSecretBasic(secret)
  return { auth, sensitive: [secret] }
}

async function readSecret(flags: CredentialFlags, sources: CredentialSources): Promise<string> {
  const file = flags['client-secret-file']
  if (file !== undefined) {
    const text = await readBoundedFile(file, MAX_SECRET_BYTES, 'the client secret file')
    return nonEmpty(withoutFinalNewline(text), `the client secret file ${file} is empty`)
  }
  if (flags['client-secret-stdin']) {
    return nonEmpty(
      withoutFinalNewline(await readStdin(sources.stdin)),
      'standard input held no client secret',
    )
  }
  const name = flags['client-secret-env']!
  if (!ENV_NAME.test(name)) {
    // Not echoed: a value that is no variable name may be the secret, pasted in the wrong place.
    throw new UsageError('--client-secret-env takes the NAME of an environment variable (letters, digits, _)')
  }
  const secret = sources.env[name]
  if (secret === undefined || secret === '') {
    throw new ConfigurationError(`environment variable ${name} is not set or empty`)
  }
  return secret
}

/**
 * A secret file written with `echo` or an editor ends with a newline that is not part of the
 * secret; one line ending is dropped, nothing else, since a secret may hold any other character.
 */
function withoutFinalNewline(text: string): string {
  return text.endsWith('\r\n') ? text.slice(0, -2) : text.endsWith('\n') ? text.slice(0, -1) : text
}

function nonEmpty(secret: string, message: string): string {
  if (secret === '') throw new ConfigurationError(message)
  return secret
}

async function readStdin(stdin: AsyncIterable<Buffer | string>): Promise<string> {
  return readBounded(
    stdin,
    MAX_SECRET_BYTES,
    `standard input holds more than ${MAX_SECRET_BYTES} bytes: not a client secret`,
  )
}

/**
 * A file's text. Read as a stream rather than checked with `stat` first, so that a pipe works too:
 * `--client-secret-file <(pass show api/secret)` names one.
 */
async function readBoundedFile(path: string, maxBytes: number, what: string): Promise<string> {
  try {
    return await readBounded(
      createReadStream(path),
      maxBytes,
      `${what} ${path} is larger than ${maxBytes} bytes`,
    )
  } catch (error) {
    if (error instanceof ConfigurationError) throw error
    const code = (error as { code?: unknown }).code
    throw new ConfigurationError(`cannot read ${what} ${path}${typeof code === 'string' ? ` (${code})` : ''}`)
  }
}

/** Everything `source` yields as UTF-8 text, refusing more than `maxBytes`. */
async function readBounded(
  source: AsyncIterable<Buffer | string>,
  maxBytes: number,
  tooLarge: string,
): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of source) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk
    size += bytes.length
    // Leaving the loop closes a stream: the rest is never read.
    if (size > maxBytes) throw new ConfigurationError(tooLarge)
    chunks.push(bytes)
  }
  return Buffer.concat(chunks).toString('utf8')
}

async function readPrivateKey(path: string): Promise<JWK | string> {
  const text = await readBoundedFile(path, MAX_KEY_FILE_BYTES, 'the private key file')
  if (!text.trimStart().startsWith('{')) return text
  try {
    return JSON.parse(text) as JWK
  } catch {
    throw new ConfigurationError(`${path} is neither a JWK nor a PEM key`)
  }
}
