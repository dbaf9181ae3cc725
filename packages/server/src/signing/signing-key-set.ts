/**
 * The authorization server's access-token signing keys: the current key, which signs every new
 * token, the keys it replaced (published until every token they signed has expired), the next key
 * (published ahead of use), and their public JWKS.
 *
 * @module signing-key-set
 */
import { ConfigurationError } from '@oauth-m2m/core'
import type { JWK } from 'jose'
import { signJwt, signJwtWithHeader } from './jwt-signer.js'
import {
  assertSigningAlg,
  generateSigningKey,
  importSigningKey,
  type SigningAlg,
  type SigningKey,
} from './signing-key.js'

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
  /** The clock that retention is counted on, epoch ms. Default `Date.now`. */
  now?: () => number
}

/** JWK members that hold private or symmetric key material and must never be published. */
const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const

/** A key held by the set and the latest expiry, in epoch ms, of the tokens it signed. */
interface KeyEntry {
  readonly key: SigningKey
  /** Latest `exp` (epoch ms) noted for this key; `-Infinity` while it has signed nothing. */
  latestExpiryMs: number
  /** When this key stopped being current (epoch ms); `undefined` while current or pinned. */
  retiredAtMs: number | undefined
  /** Configured keys stay published for as long as they are configured. */
  readonly pinned: boolean
  /** When this key became current (epoch ms); `undefined` for keys that never were in this process. */
  readonly activatedAtMs?: number | undefined
  /**
   * A fixed end of publication (epoch ms) decided where the set is shared (the store), which
   * replaces the retention this process would work out from the tokens it signed.
   */
  readonly retainUntilMs?: number | undefined
}

/**
 * A key set as a shared store holds it, with its keys imported: what
 * {@link SigningKeySet.fromShared} and {@link SigningKeySet.adopt} take.
 */
export interface SharedKeys {
  /** The key that signs new tokens, and when it became current (epoch ms). */
  readonly current: { readonly key: SigningKey; readonly activatedAtMs: number }
  /** The key the next rotation makes current; already published. */
  readonly next: SigningKey
  /** Replaced keys, each published until its `retainUntilMs` (epoch ms). */
  readonly retired: readonly { readonly key: SigningKey; readonly retainUntilMs: number }[]
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
  readonly #now: () => number
  /** The current key first, then published older keys, newest first. */
  #entries: KeyEntry[]
  /** Published, not yet signing: the key the next {@link SigningKeySet.rotate} makes current. */
  #next: SigningKey
  /** Whether tokens signed with the next key are accepted: true once the set is shared. */
  #acceptsNext = false
  #generation = 0

  private constructor(
    defaultAlg: SigningAlg,
    retentionMarginMs: number,
    now: () => number,
    entries: KeyEntry[],
    next: SigningKey,
  ) {
    this.#rotationAlg = defaultAlg
    this.#retentionMarginMs = retentionMarginMs
    this.#now = now
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
    assertSigningAlg(alg, 'signing alg')
    const retentionMarginMs = options.retentionMarginMs ?? 60_000
    if (!Number.isFinite(retentionMarginMs) || retentionMarginMs < 0) {
      throw new ConfigurationError('retentionMarginMs must be a finite number of milliseconds ≥ 0')
    }
    const configured = options.keys ?? []
    if (!Array.isArray(configured)) throw new ConfigurationError('signing keys must be an array of JWKs')
    const now = options.now ?? Date.now

    const entries: KeyEntry[] = []
    if (configured.length === 0) {
      entries.push(newEntry(await generateSigningKey(alg), false, now()))
    } else {
      const seen = new Set<string>()
      for (const [index, jwk] of configured.entries()) {
        const key = await importSigningKey(jwk, index, options.alg)
        if (seen.has(key.kid))
          throw new ConfigurationError(`signing keys[${index}].kid duplicates another key's kid`)
        seen.add(key.kid)
        entries.push(newEntry(key, index > 0, index === 0 ? now() : undefined))
      }
    }
    // Rotation keeps the algorithm of the current key unless one was asked for.
    const rotationAlg = options.alg ?? (entries[0] as KeyEntry).key.alg
    return new SigningKeySet(
      rotationAlg,
      retentionMarginMs,
      now,
      entries,
      await generateSigningKey(rotationAlg),
    )
  }

  /**
   * A set holding the keys of a shared store (see {@link SigningKeySet.adopt}).
   *
   * @param now The clock retention is counted on, epoch ms. Default `Date.now`.
   */
  static fromShared(keys: SharedKeys, now: () => number = Date.now): SigningKeySet {
    const set = new SigningKeySet(keys.next.alg, 0, now, [], keys.next)
    set.adopt(keys)
    return set
  }

  /**
   * Replaces every key with those of a shared store, in one step: from the next call on, the set
   * signs with `keys.current`, publishes `keys.next` and the retired keys (each until its
   * `retainUntilMs`, the same on every instance), and also accepts tokens signed with the next
   * key, which another instance may already have made current.
   */
  adopt(keys: SharedKeys): void {
    this.#entries = [
      newEntry(keys.current.key, false, keys.current.activatedAtMs),
      ...keys.retired.map((retired) => ({
        ...newEntry(retired.key, false, undefined),
        retiredAtMs: retired.retainUntilMs,
        retainUntilMs: retired.retainUntilMs,
      })),
    ]
    this.#next = keys.next
    this.#rotationAlg = keys.next.alg
    this.#acceptsNext = true
    this.#generation++
  }

  /** Raised by one on every change of the keys (rotation, adoption): a cache of the JWKS compares it. */
  get generation(): number {
    return this.#generation
  }

  /** When the current key became current (epoch ms); `undefined` when not known. */
  get currentActivatedAtMs(): number | undefined {
    return (this.#entries[0] as KeyEntry).activatedAtMs
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
    assertSigningAlg(alg, 'signing alg')
    const key = this.#next.alg === alg ? this.#next : await generateSigningKey(alg)
    this.#rotationAlg = alg
    this.#next = await generateSigningKey(alg)
    const nowMs = this.#now()
    const previous = this.#entries[0] as KeyEntry
    if (!previous.pinned) previous.retiredAtMs = nowMs
    this.#entries = [newEntry(key, false, nowMs), ...this.#entries]
    this.#prune(nowMs)
    this.#generation++
    return key
  }

  /**
   * Signs an access token with the current key (a compact JWS) and notes its expiry, so that the
   * key stays published until the token has expired.
   *
   * @param claims The claims, a JSON object; `exp` in epoch seconds.
   * @param typ The `typ` header, or `null` for none. Default `at+jwt` (RFC 9068).
   */
  sign<Claims extends { readonly exp: number }>(claims: Claims, typ?: string | null): string {
    const key = this.current
    const token = signJwt(key, claims, typ)
    this.noteIssued(key, claims.exp * 1000)
    return token
  }

  /**
   * Signs exactly `claims` with the current key, the header's usual members (`typ`, `kid`)
   * replaced or added to by `header` (`alg` stays the key's). The key's retention covers the token
   * when it has a numeric `exp`.
   *
   * @param typ The usual `typ`, or `null` for none.
   */
  signWithHeader(
    claims: Readonly<Record<string, unknown>>,
    typ: string | null,
    header: Readonly<Record<string, unknown>>,
  ): string {
    const key = this.current
    const token = signJwtWithHeader(key, claims, typ, header)
    if (typeof claims.exp === 'number' && Number.isFinite(claims.exp)) this.noteIssued(key, claims.exp * 1000)
    return token
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
   * @param nowMs The current time in epoch ms. Default: the set's `now`.
   */
  publicJwks(nowMs: number = this.#now()): { keys: JWK[] } {
    this.#prune(nowMs)
    return { keys: [...this.#entries, { key: this.#next }].map((entry) => publicOnly(entry.key.publicJwk)) }
  }

  /**
   * The key with this `kid` that may have signed a token: the current key or a replaced one still
   * retained; `undefined` otherwise (also for the next key, which has signed nothing yet, unless
   * the set is shared: another instance may have made it current before this one heard of it).
   *
   * @param nowMs The current time in epoch ms. Default: the set's `now`.
   */
  find(kid: string, nowMs: number = this.#now()): SigningKey | undefined {
    const current = this.#entries[0] as KeyEntry
    if (current.key.kid === kid) return current.key
    if (this.#acceptsNext && this.#next.kid === kid) return this.#next
    this.#prune(nowMs)
    return this.#entries.find((entry) => entry.key.kid === kid)?.key
  }

  /** Drops replaced keys whose tokens have all expired more than the retention margin ago. */
  #prune(nowMs: number): void {
    if (this.#entries.length === 1) return
    this.#entries = this.#entries.filter((entry, index) => {
      if (index === 0 || entry.pinned || entry.retiredAtMs === undefined) return true
      if (entry.retainUntilMs !== undefined) return nowMs <= entry.retainUntilMs
      // A key that never signed anything is kept only for the margin after it was replaced.
      const lastUseMs = Math.max(entry.latestExpiryMs, entry.retiredAtMs)
      return nowMs <= lastUseMs + this.#retentionMarginMs
    })
  }
}

function newEntry(key: SigningKey, pinned: boolean, activatedAtMs: number | undefined): KeyEntry {
  return { key, latestExpiryMs: Number.NEGATIVE_INFINITY, retiredAtMs: undefined, pinned, activatedAtMs }
}

/** A copy of the JWK without any private member, whatever was put in it. */
function publicOnly(jwk: JWK): JWK {
  const copy: Record<string, unknown> = { ...jwk }
  for (const member of PRIVATE_JWK_MEMBERS) delete copy[member]
  return copy as JWK
}
