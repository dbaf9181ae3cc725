/**
 * `m2m-server --keys-file FILE`: the signing keys kept in a file, so that a restart serves the
 * same JWKS and verifies the tokens issued before it. The file holds the server's whole key set
 * (current, next and replaced keys with their retention, the `StoredSigningKeys` of the store
 * contract) as JSON, private keys in the clear, so it is created with mode 0600 and refused when
 * others may read or write it, as ssh does with a private key. It is the signing-key part of the
 * server's store: the server keeps keys "on the store" (creating them on first start, saving each
 * rotation) and this store writes them to the file; everything else stays in memory.
 *
 * One process per file: a second server on the same file would not see the first one's rotations.
 *
 * @module cli-keys-file
 */
import { randomBytes } from 'node:crypto'
import { lstat, open, rename, rm } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { CliError, fileErrorCode } from './cli-error.js'
import { readJsonFile } from './cli-json-file.js'
import { MemoryServerStore, type StoredSigningKeys } from './server-store.js'

/** Permission bits for group and others: none may be set on a keys file. */
const GROUP_OR_OTHER = 0o077

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Whether `value` is a `StoredSigningKey`: a private JWK with `kid` and `alg`, and numeric times. */
function isStoredKey(value: unknown): boolean {
  if (!isObject(value) || !isObject(value.jwk)) return false
  const { jwk } = value
  const time = (t: unknown) => t === undefined || (typeof t === 'number' && Number.isFinite(t))
  return (
    typeof jwk.kty === 'string' &&
    typeof jwk.d === 'string' &&
    typeof jwk.kid === 'string' &&
    typeof jwk.alg === 'string' &&
    time(value.activatedAtMs) &&
    time(value.retainUntilMs)
  )
}

function checkKeySet(value: unknown, what: string): StoredSigningKeys {
  const invalid = (problem: string) =>
    new CliError(`${what} is not a signing key set written by m2m-server: ${problem}`)
  if (!isObject(value)) throw invalid('it must hold a JSON object')
  if (!Number.isSafeInteger(value.version) || (value.version as number) < 1) {
    throw invalid('"version" must be a positive integer')
  }
  if (!isStoredKey(value.current)) throw invalid('"current" must be { jwk: a private JWK with kid and alg }')
  if (!isStoredKey(value.next)) throw invalid('"next" must be { jwk: a private JWK with kid and alg }')
  if (!Array.isArray(value.retired) || !value.retired.every(isStoredKey)) {
    throw invalid('"retired" must be an array of { jwk: a private JWK with kid and alg, retainUntilMs }')
  }
  return value as unknown as StoredSigningKeys
}

/**
 * Checks that the file at `path`, when there is one, is a regular file that only its owner may
 * read and write.
 *
 * @returns `false` when there is no file yet.
 * @throws {CliError} otherwise.
 */
async function checkFile(path: string, what: string): Promise<boolean> {
  let mode: number
  try {
    const stats = await lstat(path)
    if (!stats.isFile()) throw new CliError(`${what} must be a regular file`)
    mode = stats.mode
  } catch (error) {
    if (error instanceof CliError) throw error
    if ((error as { code?: unknown }).code === 'ENOENT') return false
    throw new CliError(`cannot read ${what}${fileErrorCode(error)}`)
  }
  // Windows has no such bits: node reports what the read-only attribute allows.
  if (process.platform !== 'win32' && (mode & GROUP_OR_OTHER) !== 0) {
    const octal = (mode & 0o777).toString(8).padStart(4, '0')
    throw new CliError(
      `${what} holds private keys and others may access it (mode ${octal}): run chmod 600 ${path}`,
    )
  }
  return true
}

/** Writes `text` to `path` in one step (a private temporary file renamed over it), mode 0600. */
async function writePrivately(path: string, text: string): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(temporary, 'wx', 0o600)
  try {
    await handle.writeFile(text, 'utf8')
    await handle.sync()
  } finally {
    await handle.close()
  }
  try {
    await rename(temporary, path)
  } catch (error) {
    await rm(temporary, { force: true })
    throw error
  }
}

/** A memory store whose signing keys live in a file. */
class KeysFileStore extends MemoryServerStore {
  readonly #path: string
  readonly #what: string

  constructor(path: string) {
    super()
    this.#path = path
    this.#what = `keys file ${path}`
  }

  override async loadSigningKeys(): Promise<StoredSigningKeys | undefined> {
    if (!(await checkFile(this.#path, this.#what))) return undefined
    return checkKeySet(await readJsonFile(this.#path, this.#what), this.#what)
  }

  override async saveSigningKeys(keys: StoredSigningKeys): Promise<boolean> {
    const stored = await this.loadSigningKeys()
    if ((stored?.version ?? 0) !== keys.version - 1) return false
    try {
      await writePrivately(this.#path, `${JSON.stringify(keys, null, 2)}\n`)
    } catch (error) {
      throw new CliError(`cannot write ${this.#what}${fileErrorCode(error)}`)
    }
    return true
  }
}

/**
 * The store for `--keys-file`: in memory, except the signing keys, which live in the file at
 * `path`. The file is checked at once (it may not exist yet: it is created when the server saves
 * its first keys).
 *
 * @throws {CliError} when the file exists but others may access it, or it is not a key set this
 *   CLI wrote.
 */
export async function keysFileStore(path: string): Promise<MemoryServerStore> {
  const store = new KeysFileStore(path)
  await store.loadSigningKeys()
  return store
}
