/**
 * A client registered through the registration endpoint as the store keeps it: its accepted
 * metadata and the SHA-256 digests of its secret (with the previous one during its grace period)
 * and of its registration access token, never a clear secret. Also how a record is made, updated,
 * read back from a store, and shown to the client (RFC 7591 §3.2.1, RFC 7592 §3).
 *
 * @module registration-record
 */
import type { ClientMetadata } from './client-metadata.js'
import { isObject } from './field-validation.js'
import type { RegistrationSettings } from './registration-config.js'
import { newSecretToken, tokenDigest } from './registration-tokens.js'
import type { StoredClient } from './server-store.js'

/** The version of the record layout below; a record of another version is not read. */
const RECORD_FORMAT = 1

/** A client secret of a record. */
export interface SecretEntry {
  /** SHA-256 digest of the secret, base64url. */
  readonly digest: string
  /** When the secret stops being accepted, epoch ms; 0 for never. */
  readonly expiresAtMs: number
}

/** The secret a rotation replaced, accepted until the end of its grace period. */
export interface PreviousSecretEntry {
  /** SHA-256 digest of the secret, base64url. */
  readonly digest: string
  /** When it stops being accepted, epoch ms. */
  readonly validUntilMs: number
}

/** A registered client in the store (a {@link StoredClient}). */
export interface RegistrationRecord extends StoredClient {
  readonly client_id: string
  /** Layout version. */
  readonly format: number
  /** The accepted client metadata, without `client_id` and without secrets. */
  readonly metadata: Readonly<Record<string, unknown>>
  /** When the client was registered, epoch ms (`client_id_issued_at`). */
  readonly issuedAtMs: number
  /** The current secret, for the secret methods. */
  readonly secret?: SecretEntry
  /** The replaced secret in its grace period. */
  readonly previousSecret?: PreviousSecretEntry
  /** SHA-256 digest of the registration access token, base64url. */
  readonly registrationAccessTokenDigest: string
}

/** Whether a client of `method` authenticates with a secret the server issues. */
export function usesClientSecret(method: unknown): boolean {
  return method === undefined || method === 'client_secret_basic' || method === 'client_secret_post'
}

const DIGEST = /^[A-Za-z0-9_-]{43}$/

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

function readSecret(value: unknown): SecretEntry | undefined | false {
  if (value === undefined) return undefined
  if (!isObject(value) || typeof value.digest !== 'string' || !DIGEST.test(value.digest)) return false
  return isTime(value.expiresAtMs) ? { digest: value.digest, expiresAtMs: value.expiresAtMs } : false
}

function readPreviousSecret(value: unknown): PreviousSecretEntry | undefined | false {
  if (value === undefined) return undefined
  if (!isObject(value) || typeof value.digest !== 'string' || !DIGEST.test(value.digest)) return false
  return isTime(value.validUntilMs) ? { digest: value.digest, validUntilMs: value.validUntilMs } : false
}

/**
 * A stored client as a record, or `undefined` when it is not one this server wrote (another
 * layout, or damaged): such a client is treated as unknown.
 */
export function readRecord(stored: StoredClient): RegistrationRecord | undefined {
  if (!isObject(stored) || typeof stored.client_id !== 'string' || stored.format !== RECORD_FORMAT) {
    return undefined
  }
  const { metadata, issuedAtMs, registrationAccessTokenDigest } = stored
  if (!isObject(metadata) || !isTime(issuedAtMs)) return undefined
  if (typeof registrationAccessTokenDigest !== 'string' || !DIGEST.test(registrationAccessTokenDigest)) {
    return undefined
  }
  const secret = readSecret(stored.secret)
  const previousSecret = readPreviousSecret(stored.previousSecret)
  if (secret === false || previousSecret === false) return undefined
  return {
    client_id: stored.client_id,
    format: RECORD_FORMAT,
    metadata,
    issuedAtMs,
    ...(secret === undefined ? {} : { secret }),
    ...(previousSecret === undefined ? {} : { previousSecret }),
    registrationAccessTokenDigest,
  }
}

function secretLive(secret: SecretEntry, nowMs: number): boolean {
  return secret.expiresAtMs === 0 || nowMs < secret.expiresAtMs
}

/** The secrets a record accepts now, and when that set next changes (epoch ms; Infinity: never). */
export function liveSecretDigests(
  record: RegistrationRecord,
  nowMs: number,
): { digests: string[]; changesAtMs: number } {
  const digests: string[] = []
  let changesAtMs = Number.POSITIVE_INFINITY
  const { secret, previousSecret } = record
  if (secret !== undefined && secretLive(secret, nowMs)) {
    digests.push(secret.digest)
    if (secret.expiresAtMs !== 0) changesAtMs = secret.expiresAtMs
  }
  if (previousSecret !== undefined && nowMs < previousSecret.validUntilMs) {
    digests.push(previousSecret.digest)
    changesAtMs = Math.min(changesAtMs, previousSecret.validUntilMs)
  }
  return { digests, changesAtMs }
}

/**
 * The client metadata of a record as the registry prepares it: the accepted metadata, its
 * `client_id`, and for the secret methods the digests of the secrets accepted at `nowMs`.
 */
export function recordClientMetadata(
  record: RegistrationRecord,
  nowMs: number,
): { metadata: ClientMetadata; validUntilMs: number } {
  const metadata: ClientMetadata = { ...record.metadata, client_id: record.client_id }
  if (!usesClientSecret(record.metadata.token_endpoint_auth_method)) {
    return { metadata, validUntilMs: Number.POSITIVE_INFINITY }
  }
  const { digests, changesAtMs } = liveSecretDigests(record, nowMs)
  return { metadata: { ...metadata, client_secret_hash: digests }, validUntilMs: changesAtMs }
}

/** A new secret and its entry, living `settings.secretLifetimeSec` from `nowMs`. */
function issueSecret(nowMs: number, settings: RegistrationSettings): { secret: string; entry: SecretEntry } {
  const secret = newSecretToken()
  const expiresAtMs = settings.secretLifetimeSec === 0 ? 0 : nowMs + settings.secretLifetimeSec * 1000
  return { secret, entry: { digest: tokenDigest(secret), expiresAtMs } }
}

/** A new registration, with the clear secret and registration access token to show once. */
export interface IssuedRegistration {
  readonly record: RegistrationRecord
  /** The clear client secret, for the secret methods; shown once, never stored. */
  readonly clientSecret: string | undefined
  /** The clear registration access token; shown once, never stored. */
  readonly registrationAccessToken: string
}

/**
 * A new record for `metadata` (accepted, without `client_id`): a secret for the secret methods
 * and a registration access token.
 */
export function newRecord(
  clientId: string,
  metadata: Readonly<Record<string, unknown>>,
  nowMs: number,
  settings: RegistrationSettings,
): IssuedRegistration {
  const registrationAccessToken = newSecretToken()
  const issued = usesClientSecret(metadata.token_endpoint_auth_method)
    ? issueSecret(nowMs, settings)
    : undefined
  const record: RegistrationRecord = {
    client_id: clientId,
    format: RECORD_FORMAT,
    metadata,
    issuedAtMs: nowMs,
    ...(issued === undefined ? {} : { secret: issued.entry }),
    registrationAccessTokenDigest: tokenDigest(registrationAccessToken),
  }
  return { record, clientSecret: issued?.secret, registrationAccessToken }
}

/**
 * The record after an update (RFC 7592 §2.2) to `metadata`: the registration access token is
 * kept; the secret is kept, unless `rotateSecret` asks for a new one or the client moves to a
 * secret method without one (then the clear new secret is returned, to show once). A rotated
 * secret stays valid for `secretGraceSec` (never beyond its own expiry). A client that moves to
 * a method without a secret loses its secrets at once.
 */
export function updatedRecord(
  record: RegistrationRecord,
  metadata: Readonly<Record<string, unknown>>,
  nowMs: number,
  settings: RegistrationSettings,
  rotateSecret: boolean,
): { record: RegistrationRecord; clientSecret: string | undefined } {
  const base = {
    client_id: record.client_id,
    format: RECORD_FORMAT,
    metadata,
    issuedAtMs: record.issuedAtMs,
    registrationAccessTokenDigest: record.registrationAccessTokenDigest,
  }
  if (!usesClientSecret(metadata.token_endpoint_auth_method)) return { record: base, clientSecret: undefined }
  const previousLive =
    record.previousSecret !== undefined && nowMs < record.previousSecret.validUntilMs
      ? record.previousSecret
      : undefined
  if (!rotateSecret && record.secret !== undefined) {
    const kept = {
      ...base,
      secret: record.secret,
      ...(previousLive === undefined ? {} : { previousSecret: previousLive }),
    }
    return { record: kept, clientSecret: undefined }
  }
  const issued = issueSecret(nowMs, settings)
  const old = record.secret
  let previousSecret: PreviousSecretEntry | undefined
  if (old !== undefined && secretLive(old, nowMs) && settings.secretGraceSec > 0) {
    const graceEndMs = nowMs + settings.secretGraceSec * 1000
    previousSecret = {
      digest: old.digest,
      validUntilMs: old.expiresAtMs === 0 ? graceEndMs : Math.min(graceEndMs, old.expiresAtMs),
    }
  }
  const rotated = {
    ...base,
    secret: issued.entry,
    ...(previousSecret === undefined ? {} : { previousSecret }),
  }
  return { record: rotated, clientSecret: issued.secret }
}

/**
 * The client information response (RFC 7591 §3.2.1 with RFC 7592 §3): `client_id`, the clear
 * secret when one was just issued, `client_id_issued_at`, `client_secret_expires_at` for a client
 * with a secret, the registration access token and client URI, then the accepted metadata.
 */
export function clientInformation(
  record: RegistrationRecord,
  registrationClientUri: string,
  registrationAccessToken: string,
  clientSecret: string | undefined,
): Record<string, unknown> {
  const seconds = (ms: number) => Math.floor(ms / 1000)
  return {
    client_id: record.client_id,
    ...(clientSecret === undefined ? {} : { client_secret: clientSecret }),
    client_id_issued_at: seconds(record.issuedAtMs),
    ...(record.secret === undefined
      ? {}
      : {
          client_secret_expires_at: record.secret.expiresAtMs === 0 ? 0 : seconds(record.secret.expiresAtMs),
        }),
    registration_access_token: registrationAccessToken,
    registration_client_uri: registrationClientUri,
    ...record.metadata,
  }
}
