/**
 * `m2m-server --redis URL`: the server's state on Redis through `@oauth-m2m/redis`, installed
 * beside this package and loaded only when asked for, with the key-encryption key that protects
 * the private signing keys there (`--key-encryption-key-file`, or `M2M_KEY_ENCRYPTION_KEY`).
 *
 * It is not a peer dependency of this package: `@oauth-m2m/redis` declares this package as its
 * (optional) peer, which is what keeps the two versions in step, and a peer each way would make
 * the two packages a dependency cycle.
 *
 * @module cli-redis
 */
import { readFile } from 'node:fs/promises'
import { CliError, EXIT_CODES, fileErrorCode } from './cli-error.js'
import type { CliLog } from './cli-request-log.js'
import type { ServerStore } from './server-store.js'

/** The package that holds the Redis store. */
export const REDIS_PACKAGE = '@oauth-m2m/redis'

/** A store the CLI opened, with its connections to close at shutdown. */
export interface ClosableStore extends ServerStore {
  close(): Promise<void>
}

/** A Redis store as the CLI opens it: closed at shutdown, rekeyed after the start. */
export interface CliRedisStore extends ClosableStore {
  rekey(): Promise<{ clients: number; signingKeys: boolean }>
}

/** What the CLI uses of `@oauth-m2m/redis`, typed here: this package does not build against it. */
interface RedisPackage {
  redisServerStore(options: {
    url: string
    keyEncryptionKey: string
    keyEncryptionKeyFallbacks: string[]
  }): CliRedisStore
}

/** 32 bytes, base64url without padding. */
const KEY_SYNTAX = /^[A-Za-z0-9_-]{43}$/

const MAKE_ONE =
  "make one with: node -e \"console.log(require('node:crypto').randomBytes(32).toString('base64url'))\""

/**
 * The key-encryption key, from `file` or else from `env[variable]`: 32 bytes base64url-encoded
 * (43 characters; surrounding whitespace, such as a file's final newline, is ignored). The value
 * never appears in an error.
 *
 * @throws {CliError} when neither is given (usage), the file cannot be read, or the value is not
 *   such a key.
 */
export async function readKeyEncryptionKey(
  file: string | undefined,
  env: NodeJS.ProcessEnv,
  variable: string,
): Promise<string> {
  let value: string
  let source: string
  if (file !== undefined) {
    source = `key-encryption key file ${file}`
    try {
      value = await readFile(file, 'utf8')
    } catch (error) {
      throw new CliError(`cannot read ${source}${fileErrorCode(error)}`)
    }
  } else if (env[variable] !== undefined && env[variable] !== '') {
    source = variable
    value = env[variable] as string
  } else {
    throw new CliError(
      `--redis needs the key that encrypts the signing keys in Redis: --key-encryption-key-file FILE or ${variable} (32 random bytes, base64url; ${MAKE_ONE})`,
      EXIT_CODES.usage,
    )
  }
  const key = value.trim()
  if (!KEY_SYNTAX.test(key) || Buffer.from(key, 'base64url').length !== 32) {
    throw new CliError(`${source} must hold 32 random bytes, base64url-encoded (43 characters); ${MAKE_ONE}`)
  }
  return key
}

/**
 * The fallback key-encryption keys in `env[variable]`: comma-separated, each like the key itself.
 * None when the variable is unset or blank. The values never appear in an error.
 *
 * @throws {CliError} naming the position of a value that is not such a key.
 */
export function readKeyEncryptionKeyFallbacks(env: NodeJS.ProcessEnv, variable: string): string[] {
  const listed = (env[variable] ?? '').split(',').map((value) => value.trim())
  if (listed.every((value) => value === '')) return []
  listed.forEach((value, index) => {
    if (!KEY_SYNTAX.test(value)) {
      throw new CliError(
        `${variable}: key ${index + 1} is not 32 bytes base64url-encoded (43 characters; keys separated by commas)`,
      )
    }
  })
  return listed
}

/**
 * Loads `@oauth-m2m/redis`.
 *
 * @param specifier The package to load; tests name one that is not installed.
 * @throws {CliError} with the install line when the package is not installed.
 */
export async function loadRedisPackage(specifier: string = REDIS_PACKAGE): Promise<RedisPackage> {
  try {
    return (await import(specifier)) as RedisPackage
  } catch (error) {
    const code = (error as { code?: unknown }).code
    const message = error instanceof Error ? error.message : ''
    if (code === 'ERR_MODULE_NOT_FOUND' && message.includes(`'${specifier}'`)) {
      throw new CliError(`--redis needs the ${specifier} package: npm install ${specifier}`)
    }
    throw error
  }
}

/** A Redis URL as the redis client takes it: `redis:` or `rediss:` (TLS). */
function checkRedisUrl(url: string): void {
  if (!URL.canParse(url) || !['redis:', 'rediss:'].includes(new URL(url).protocol)) {
    throw new CliError(
      '--redis must be a redis:// or rediss:// URL, such as redis://localhost:6379/0',
      EXIT_CODES.usage,
    )
  }
}

/**
 * The Redis store for `--redis URL` (checked and connected to lazily by the store; the server's
 * start reaches it first), and whether it has fallback keys (then {@link rekeyInBackground} after
 * the start).
 *
 * @throws {CliError} for a URL that is not a Redis URL, a missing or bad key-encryption key, or
 *   `@oauth-m2m/redis` not installed.
 */
export async function redisStore(
  url: string,
  keyEncryptionKeyFile: string | undefined,
  env: NodeJS.ProcessEnv,
  variables: { key: string; fallbacks: string },
): Promise<{ store: CliRedisStore; hasFallbacks: boolean }> {
  checkRedisUrl(url)
  const keyEncryptionKey = await readKeyEncryptionKey(keyEncryptionKeyFile, env, variables.key)
  const keyEncryptionKeyFallbacks = readKeyEncryptionKeyFallbacks(env, variables.fallbacks)
  const { redisServerStore } = await loadRedisPackage()
  try {
    const store = redisServerStore({ url, keyEncryptionKey, keyEncryptionKeyFallbacks })
    return { store, hasFallbacks: keyEncryptionKeyFallbacks.length > 0 }
  } catch (error) {
    // Such as a fallback that is the key itself; the store's message names no value.
    throw new CliError(error instanceof Error ? error.message : String(error))
  }
}

/**
 * Moves what is still under a fallback key to the current key (`rekey`), in the background, and
 * logs what it did: once it has run on one instance of a fleet, the fallbacks can go (after the
 * longest opaque-token lifetime, which it leaves alone).
 */
export function rekeyInBackground(store: CliRedisStore, log: Pick<CliLog, 'info' | 'warn'>): void {
  store.rekey().then(
    (report) => log.info('moved to the current key-encryption key', { ...report }),
    (error: unknown) =>
      log.warn(
        'could not move everything to the current key-encryption key; it is retried at the next start',
        {
          error: error instanceof Error ? error.message : String(error),
        },
      ),
  )
}
