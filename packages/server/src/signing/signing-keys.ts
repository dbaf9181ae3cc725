/**
 * The authorization server's access-token signing keys: the current key, the keys it replaced
 * (published until every token they signed has expired), and their public JWKS.
 *
 * @module signing-keys
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from 'node:crypto'
import { promisify } from 'node:util'
import { ConfigurationError } from '@oauth-m2m/core'
import { calculateJwkThumbprint, type JWK } from 'jose'

/** The JWS algorithms the server signs access tokens with (RFC 7518 §3, RFC 8037). */
export type SigningAlg = 'ES256' | 'RS256' | 'PS256' | 'EdDSA'

/** One signing key pair with its published identity. */
export interface SigningKey {
  /** Key id: the RFC 7638 thumbprint of the public key, or the `kid` given in the configuration. */
  readonly kid: string
  /** The one algorithm this key signs with. */
  readonly alg: SigningAlg
  /** The private half; never leaves the process. */
  readonly privateKey: KeyObject
  /** The public half, used to verify the server's own tokens. */
  readonly publicKey: KeyObject
  /** The public JWK as published on `/jwks`, with `kid`, `use: 'sig'` and `alg`. */
  readonly publicJwk: JWK
}

/** Options of {@link SigningKeySet.create}. */
export interface SigningKeySetOptions {
  /** Algorithm of generated keys, and of configured keys whose JWK has no `alg`. Default `ES256`. */
  alg?: SigningAlg
  /**
   * Private JWKs from the configuration. The first becomes the current signing key; the others
   * stay published (for tokens they signed before a restart) until removed from the
   * configuration. Without keys, one key is generated at start.
   */
  keys?: JWK[]
  /**
   * How long a replaced key stays published after the last token it signed has expired, in
   * milliseconds, to cover verifiers whose clocks run behind. Default 60 000.
   */
  retentionMarginMs?: number
}

/** Every algorithm the server signs access tokens with. */
export const SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'RS256', 'PS256', 'EdDSA']

/** RSA keys shorter than this are refused (RFC 7518 §3.3, §3.5). */
const MIN_RSA_MODULUS_BITS = 2048

/** JWK members that hold private or symmetric key material and must never be published. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

const generateKeyPairAsync = promisify(generateKeyPair)

/** A key held by the set and the latest expiry, in epoch ms, of the tokens it signed. */
interface KeyEntry {
  readonly key: SigningKey
  /** Latest `exp` (epoch ms) noted for this key; `-Infinity` while it has signed nothing. */
  latestExpiryMs: number
  /** When this key stopped being current (epoch ms); `undefined` while current or pinned. */
  retiredAtMs: number | undefined
  /** Configured keys stay published for as long as they are configured. */
  readonly pinned: boolean
}

function isSigningAlg(value: unknown): value is SigningAlg {
  return typeof value === 'string' && (SIGNING_ALGS as readonly string[]).includes(value)
}

async function generate(alg: SigningAlg): Promise<{ privateKey: KeyObject; publicKey: KeyObject }> {
  switch (alg) {
    case 'ES256':
      return generateKeyPairAsync('ec', { namedCurve: 'P-256' })
    case 'RS256':
    case 'PS256':
      return generateKeyPairAsync('rsa', { modulusLength: MIN_RSA_MODULUS_BITS })
    case 'EdDSA':
      return generateKeyPairAsync('ed25519')
  }
}

/** Whether a key of this shape can sign with `alg`. */
function keyFitsAlg(alg: SigningAlg, key: KeyObject): boolean {
  const details = key.asymmetricKeyDetails
  switch (alg) {
    case 'ES256':
      return key.asymmetricKeyType === 'ec' && details?.namedCurve === 'prime256v1'
    case 'RS256':
    case 'PS256':
      return key.asymmetricKeyType === 'rsa'
    case 'EdDSA':
      return key.asymmetricKeyType === 'ed25519'
  }
}

/** The algorithm a configured key signs with when its JWK does not say. */
function inferAlg(jwk: JWK, preferred: SigningAlg | undefined): SigningAlg | undefined {
  if (jwk.kty === 'EC') return 'ES256'
  if (jwk.kty === 'OKP') return 'EdDSA'
  if (jwk.kty === 'RSA') return preferred === 'PS256' ? 'PS256' : 'RS256'
  return undefined
}

async function toSigningKey(
  alg: SigningAlg,
  privateKey: KeyObject,
  publicKey: KeyObject,
  configuredKid?: string,
): Promise<SigningKey> {
  const exported = publicKey.export({ format: 'jwk' }) as JWK
  const kid = configuredKid ?? (await calculateJwkThumbprint(exported, 'sha256'))
  const publicJwk: JWK = { ...exported, kid, use: 'sig', alg }
  return Object.freeze({ kid, alg, privateKey, publicKey, publicJwk: Object.freeze(publicJwk) })
}

async function importConfiguredKey(
  jwk: unknown,
  index: number,
  preferred: SigningAlg | undefined,
): Promise<SigningKey> {
  const where = `signing keys[${index}]`
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) {
    throw new ConfigurationError(`${where} must be a JWK object`)
  }
  const candidate = jwk as JWK
  if (candidate.kty !== 'EC' && candidate.kty !== 'RSA' && candidate.kty !== 'OKP') {
    throw new ConfigurationError(`${where}.kty must be "EC", "RSA" or "OKP"`)
  }
  if (typeof candidate.d !== 'string' || candidate.d === '') {
    throw new ConfigurationError(`${where} must be a private key (it has no "d")`)
  }
  if (candidate.use !== undefined && candidate.use !== 'sig') {
    throw new ConfigurationError(`${where}.use must be "sig" when present`)
  }
  if (
    candidate.key_ops !== undefined &&
    !(Array.isArray(candidate.key_ops) && candidate.key_ops.includes('sign'))
  ) {
    throw new ConfigurationError(`${where}.key_ops must include "sign" when present`)
  }
  if (candidate.kid !== undefined && (typeof candidate.kid !== 'string' || candidate.kid === '')) {
    throw new ConfigurationError(`${where}.kid must be a non-empty string when present`)
  }
  if (candidate.alg !== undefined && !isSigningAlg(candidate.alg)) {
    throw new ConfigurationError(`${where}.alg must be one of ${SIGNING_ALGS.join(', ')}`)
  }
  const alg = candidate.alg ?? inferAlg(candidate, preferred)
  if (alg === undefined) throw new ConfigurationError(`${where}.kty does not fit any supported algorithm`)

  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: candidate as JsonWebKey, format: 'jwk' })
  } catch (cause) {
    throw new ConfigurationError(`${where} is not a valid private ${candidate.kty} JWK`, { cause })
  }
  if (!keyFitsAlg(alg, privateKey)) {
    const expected =
      alg === 'ES256' ? 'an EC P-256 key' : alg === 'EdDSA' ? 'an OKP Ed25519 key' : 'an RSA key'
    throw new ConfigurationError(`${where}: alg ${alg} needs ${expected}`)
  }
  const modulusLength = privateKey.asymmetricKeyDetails?.modulusLength
  if (privateKey.asymmetricKeyType === 'rsa' && (modulusLength ?? 0) < MIN_RSA_MODULUS_BITS) {
    throw new ConfigurationError(`${where}: RSA keys must have at least ${MIN_RSA_MODULUS_BITS} bits`)
  }
  return toSigningKey(alg, privateKey, declaredPublicKey(candidate, privateKey, where), candidate.kid)
}

/**
 * The public key the JWK declares, after checking that its private part belongs to it: node
 * imports an EC JWK whose `d` does not match `x`/`y` without complaint, and such a key would
 * sign tokens that fail verification against the published key.
 */
function declaredPublicKey(jwk: JWK, privateKey: KeyObject, where: string): KeyObject {
  const members =
    jwk.kty === 'RSA'
      ? { kty: jwk.kty, n: jwk.n, e: jwk.e }
      : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y }
  let publicKey: KeyObject
  try {
    publicKey = createPublicKey({ key: JSON.parse(JSON.stringify(members)) as JsonWebKey, format: 'jwk' })
  } catch (cause) {
    throw new ConfigurationError(`${where} has invalid public members`, { cause })
  }
  // A pairwise consistency test (as FIPS 140 does at key import), not a JWS operation.
  const probe = randomBytes(32)
  const digest = privateKey.asymmetricKeyType === 'ed25519' ? null : 'sha256'
  if (!verify(digest, probe, publicKey, sign(digest, probe, privateKey))) {
    throw new ConfigurationError(`${where}: the private key does not belong to the public key it declares`)
  }
  return publicKey
}

/**
 * The server's signing keys. One key is current and signs every new token; keys replaced by
 * {@link SigningKeySet.rotate} stay published on the JWKS (and usable by {@link SigningKeySet.find})
 * until the latest `exp` of the tokens they signed, plus `retentionMarginMs`, has passed, so no
 * token the server issued ever fails verification because of a rotation.
 *
 * The NEXT key is published ahead of use: a verifier that fetched the JWKS at any time since the
 * previous rotation already holds the key a rotation makes current, so it never has to refetch
 * (and never meets a JWKS cache's unknown-`kid` cooldown) when the first token signed with it
 * arrives.
 */
export class SigningKeySet {
  /** Algorithm of the keys rotations generate: the current key's, or the last one asked for. */
  #rotationAlg: SigningAlg
  readonly #retentionMarginMs: number
  /** The current key first, then published older keys, newest first. */
  #entries: KeyEntry[]
  /** Published, not yet signing: the key the next {@link SigningKeySet.rotate} makes current. */
  #next: SigningKey

  private constructor(
    defaultAlg: SigningAlg,
    retentionMarginMs: number,
    entries: KeyEntry[],
    next: SigningKey,
  ) {
    this.#rotationAlg = defaultAlg
    this.#retentionMarginMs = retentionMarginMs
    this.#entries = entries
    this.#next = next
  }

  /**
   * Imports the configured keys, or generates one key of `alg` when none is configured.
   *
   * @throws ConfigurationError when a configured key is not a private key of a supported type,
   *   its `alg` does not fit its `kty`/`crv`, or two keys share a `kid`.
   */
  static async create(options: SigningKeySetOptions = {}): Promise<SigningKeySet> {
    const alg = options.alg ?? 'ES256'
    if (!isSigningAlg(alg))
      throw new ConfigurationError(`signing alg must be one of ${SIGNING_ALGS.join(', ')}`)
    const retentionMarginMs = options.retentionMarginMs ?? 60_000
    if (!Number.isFinite(retentionMarginMs) || retentionMarginMs < 0) {
      throw new ConfigurationError('retentionMarginMs must be a finite number of milliseconds ≥ 0')
    }
    const configured = options.keys ?? []
    if (!Array.isArray(configured)) throw new ConfigurationError('signing keys must be an array of JWKs')

    const entries: KeyEntry[] = []
    if (configured.length === 0) {
      entries.push(newEntry(await generateKey(alg), false))
    } else {
      const seen = new Set<string>()
      for (const [index, jwk] of configured.entries()) {
        const key = await importConfiguredKey(jwk, index, options.alg)
        if (seen.has(key.kid))
          throw new ConfigurationError(`signing keys[${index}].kid duplicates another key's kid`)
        seen.add(key.kid)
        entries.push(newEntry(key, index > 0))
      }
    }
    // Rotation keeps the algorithm of the current key unless one was asked for.
    const rotationAlg = options.alg ?? (entries[0] as KeyEntry).key.alg
    return new SigningKeySet(rotationAlg, retentionMarginMs, entries, await generateKey(rotationAlg))
  }

  /** The key that signs new tokens. */
  get current(): SigningKey {
    return (this.#entries[0] as KeyEntry).key
  }

  /** The key the next rotation to the set's algorithm makes current; already on the JWKS. */
  get next(): SigningKey {
    return this.#next
  }

  /** The distinct algorithms of the published keys, current key's first. */
  get algorithms(): SigningAlg[] {
    return [...new Set([...this.#entries.map((entry) => entry.key.alg), this.#next.alg])]
  }

  /**
   * Makes the pre-published next key current (or, for another `alg` than the set's, a new key
   * that no verifier has seen yet) and publishes a new next key of `alg`, which later rotations
   * keep. The previous key stays
   * published until the last token it signed has expired, plus the retention margin.
   */
  async rotate(alg: SigningAlg = this.#rotationAlg): Promise<SigningKey> {
    if (!isSigningAlg(alg))
      throw new ConfigurationError(`signing alg must be one of ${SIGNING_ALGS.join(', ')}`)
    const key = this.#next.alg === alg ? this.#next : await generateKey(alg)
    this.#rotationAlg = alg
    this.#next = await generateKey(alg)
    const nowMs = Date.now()
    const previous = this.#entries[0] as KeyEntry
    if (!previous.pinned) previous.retiredAtMs = nowMs
    this.#entries = [newEntry(key, false), ...this.#entries]
    this.#prune(nowMs)
    return key
  }

  /**
   * Records that `key` signed a token expiring at `expiresAtMs` (epoch ms), so that the key
   * outlives the token. Called once per issued token: it only compares and stores a number.
   */
  noteIssued(key: SigningKey, expiresAtMs: number): void {
    const current = this.#entries[0] as KeyEntry
    if (current.key === key) {
      if (expiresAtMs > current.latestExpiryMs) current.latestExpiryMs = expiresAtMs
      return
    }
    // A token signed with a key that was rotated out while the request was in flight.
    for (const entry of this.#entries) {
      if (entry.key === key) {
        if (expiresAtMs > entry.latestExpiryMs) entry.latestExpiryMs = expiresAtMs
        return
      }
    }
  }

  /**
   * The public JWKS: public members only (never `d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`, `k`),
   * each key with `kid`, `use: 'sig'` and `alg`. Replaced keys whose retention has ended are
   * dropped first.
   *
   * @param nowMs The current time in epoch ms. Default `Date.now()`.
   */
  publicJwks(nowMs: number = Date.now()): { keys: JWK[] } {
    this.#prune(nowMs)
    return { keys: [...this.#entries, { key: this.#next }].map((entry) => publicOnly(entry.key.publicJwk)) }
  }

  /**
   * The key with this `kid` that may have signed a token: the current key or a replaced one still
   * retained; `undefined` otherwise (also for the next key, which has signed nothing yet).
   *
   * @param nowMs The current time in epoch ms. Default `Date.now()`.
   */
  find(kid: string, nowMs: number = Date.now()): SigningKey | undefined {
    const current = this.#entries[0] as KeyEntry
    if (current.key.kid === kid) return current.key
    this.#prune(nowMs)
    return this.#entries.find((entry) => entry.key.kid === kid)?.key
  }

  /** Drops replaced keys whose tokens have all expired more than the retention margin ago. */
  #prune(nowMs: number): void {
    if (this.#entries.length === 1) return
    this.#entries = this.#entries.filter((entry, index) => {
      if (index === 0 || entry.pinned || entry.retiredAtMs === undefined) return true
      // A key that never signed anything is kept only for the margin after it was replaced.
      const lastUseMs = Math.max(entry.latestExpiryMs, entry.retiredAtMs)
      return nowMs <= lastUseMs + this.#retentionMarginMs
    })
  }
}

async function generateKey(alg: SigningAlg): Promise<SigningKey> {
  const pair = await generate(alg)
  return toSigningKey(alg, pair.privateKey, pair.publicKey)
}

function newEntry(key: SigningKey, pinned: boolean): KeyEntry {
  return { key, latestExpiryMs: Number.NEGATIVE_INFINITY, retiredAtMs: undefined, pinned }
}

/** A copy of the JWK without any private member, whatever was put in it. */
function publicOnly(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk }
  for (const member of PRIVATE_JWK_MEMBERS) delete copy[member]
  return copy as JWK
}
