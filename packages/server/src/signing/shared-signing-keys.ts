/**
 * Signing keys shared by every instance on one {@link ServerStore}: loaded at start (or created by
 * compare-and-set when the store holds none), loaded again on a `signing-keys` event and on a
 * periodic fallback, rotated by compare-and-set (scheduled or on demand) and announced with an
 * event. Signing never waits for the store: each instance signs with the set it last loaded.
 *
 * A rotation makes the stored next key current. Every instance published that key when it loaded
 * the set, so before any instance signs with it, every instance (and every verifier that fetched
 * a JWKS since) already has it.
 *
 * @module shared-signing-keys
 */
import type { ServerStore, StoredSigningKey, StoredSigningKeys, StoreEvent } from '../server-store.js'
import { assertSigningAlg, generateSigningKey, type SigningAlg, type SigningKey } from './signing-key.js'
import { SigningKeySet } from './signing-key-set.js'
import {
  firstStoredKeys,
  importStoredKeys,
  privateJwk,
  rotatedStoredKeys,
  storedAlg,
} from './stored-key-set.js'

/** Most compare-and-set attempts of one rotation before it gives up (others keep rotating at once). */
const MAX_ROTATION_ATTEMPTS = 10

/** Options of {@link SharedSigningKeys.load}. */
export interface SharedSigningKeysOptions {
  /** The store every instance shares (guarded: its failures are `StoreUnavailableError`s). */
  store: ServerStore
  /** Algorithm of the keys created when the store holds none. */
  alg: SigningAlg
  /**
   * How long a replaced key stays published after its rotation, in milliseconds: the longest
   * access-token lifetime, plus the time an instance may go on signing with it before it hears of
   * the rotation, plus a margin for verifiers' clocks.
   */
  retainAfterRotationMs: number
  /** How often the set is loaded again when no event came, in milliseconds. */
  refreshEveryMs: number
  /** How often the current key is replaced, in milliseconds; `undefined`: never by itself. */
  rotateEveryMs: number | undefined
  /** The clock: activation, retention and schedule, epoch ms. */
  now: () => number
  /** Told of a background failure (a reload, a scheduled rotation, an event that failed). */
  onError: (error: unknown) => void
}

/** Whether two stored sets are the same set (a store that lost its data may start again at 1). */
function sameSet(a: StoredSigningKeys, b: StoredSigningKeys): boolean {
  return (
    a.version === b.version && a.current.jwk.kid === b.current.jwk.kid && a.next.jwk.kid === b.next.jwk.kid
  )
}

/** The key set of one instance, kept in step with the store. */
export class SharedSigningKeys {
  /** The keys that sign and verify; changed in place on every adoption. */
  readonly keys: SigningKeySet
  readonly #options: SharedSigningKeysOptions
  /** The stored form of the set `keys` holds. */
  #stored: StoredSigningKeys
  #known: Map<string, SigningKey>
  /** Store work one at a time, so that a slow reload never adopts a set older than a rotation's. */
  #queue: Promise<unknown> = Promise.resolve()
  #reloadQueued = false
  #ticking = false
  #timer: NodeJS.Timeout | undefined
  #unsubscribe: (() => void) | undefined

  private constructor(options: SharedSigningKeysOptions, stored: StoredSigningKeys, keys: SigningKeySet) {
    this.#options = options
    this.#stored = stored
    this.keys = keys
    this.#known = SharedSigningKeys.#index(keys)
  }

  /**
   * Loads the store's key set, or creates one when the store holds none (by compare-and-set: of
   * instances starting together, one creates it and the others load the winner's).
   *
   * @throws {StoreUnavailableError} when the store cannot be reached.
   */
  static async load(options: SharedSigningKeysOptions): Promise<SharedSigningKeys> {
    const { store, now } = options
    let stored = await store.loadSigningKeys()
    if (stored === undefined) {
      const created = await firstStoredKeys(options.alg, now())
      stored = (await store.saveSigningKeys(created)) ? created : await store.loadSigningKeys()
      if (stored === undefined) throw new Error('the store lost the signing keys another instance saved')
    }
    const keys = SigningKeySet.fromShared(await importStoredKeys(stored, new Map()), now)
    return new SharedSigningKeys(options, stored, keys)
  }

  static #index(keys: SigningKeySet): Map<string, SigningKey> {
    const known = new Map<string, SigningKey>([[keys.next.kid, keys.next]])
    for (const jwk of keys.publicJwks().keys) {
      const key = jwk.kid === undefined ? undefined : keys.find(jwk.kid)
      if (key !== undefined) known.set(key.kid, key)
    }
    return known
  }

  /** Runs `work` after every store operation queued before it. */
  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work)
    this.#queue = run.catch(() => undefined)
    return run
  }

  async #adopt(stored: StoredSigningKeys): Promise<void> {
    if (sameSet(stored, this.#stored)) return
    this.keys.adopt(await importStoredKeys(stored, this.#known))
    this.#stored = stored
    this.#known = SharedSigningKeys.#index(this.keys)
  }

  /**
   * The store's set, adopted when it changed. A store that lost the set (a Redis flushed or
   * restarted without persistence) gets this instance's set back as version 1, so that the
   * instances do not each create their own.
   */
  async #loadFresh(): Promise<StoredSigningKeys> {
    const { store } = this.#options
    const loaded = await store.loadSigningKeys()
    if (loaded !== undefined) {
      await this.#adopt(loaded)
      return loaded
    }
    const restored = { ...this.#stored, version: 1 }
    if (await store.saveSigningKeys(restored)) {
      this.#stored = restored
      return restored
    }
    const winner = await store.loadSigningKeys()
    if (winner === undefined) throw new Error('the store lost the signing keys another instance saved')
    await this.#adopt(winner)
    return winner
  }

  /** Loads the store's set now (after what is queued) and adopts it when it changed. */
  reload(): Promise<void> {
    return this.#serial(async () => {
      await this.#loadFresh()
    })
  }

  /** Queues one reload, unless one is already waiting (a burst of events costs one load). */
  #requestReload(): void {
    if (this.#reloadQueued) return
    this.#reloadQueued = true
    this.#serial(async () => {
      this.#reloadQueued = false
      await this.#loadFresh()
    }).catch((error: unknown) => this.#report(error))
  }

  /**
   * Makes the stored next key current (or a new key, for another `alg` than the next key's), by
   * compare-and-set on the freshest set: an instance that loses to another's rotation rotates
   * again from the winner's set, so two rotations at once make two version steps and lose no key.
   * Then tells every instance.
   *
   * @param alg Algorithm of the new keys. Default: the stored next key's.
   * @returns The key now current.
   */
  rotate(alg?: SigningAlg): Promise<SigningKey> {
    if (alg !== undefined) assertSigningAlg(alg, 'signing alg')
    return this.#serial(async () => {
      const generated = new Map<SigningAlg, Promise<StoredSigningKey>[]>()
      // New keys are made once and reused by every attempt; none of them was ever published.
      const newKey = (wanted: SigningAlg, slot: 0 | 1): Promise<StoredSigningKey> => {
        let pair = generated.get(wanted)
        if (pair === undefined) {
          const make = () => generateSigningKey(wanted).then((key) => ({ jwk: privateJwk(key) }))
          pair = [make(), make()]
          generated.set(wanted, pair)
        }
        return pair[slot] as Promise<StoredSigningKey>
      }
      for (let attempt = 0; attempt < MAX_ROTATION_ATTEMPTS; attempt++) {
        const fresh = await this.#loadFresh()
        const wanted = alg ?? storedAlg(fresh.next) ?? this.#options.alg
        const candidate = rotatedStoredKeys(fresh, {
          nowMs: this.#options.now(),
          retainAfterMs: this.#options.retainAfterRotationMs,
          current: storedAlg(fresh.next) === wanted ? fresh.next : await newKey(wanted, 0),
          next: await newKey(wanted, 1),
        })
        if (await this.#options.store.saveSigningKeys(candidate)) {
          await this.#adopt(candidate)
          await this.#announce()
          return this.keys.current
        }
      }
      throw new Error(`the signing keys changed on every one of ${MAX_ROTATION_ATTEMPTS} rotation attempts`)
    })
  }

  /**
   * Rotates when the current key has been current for `rotateEveryMs`, judged on the freshest set:
   * once one instance has rotated, the others see a young key and do nothing; two that decide at
   * the same moment race on compare-and-set, and the loser adopts the winner's set.
   *
   * @returns Whether this instance rotated.
   */
  rotateIfDue(): Promise<boolean> {
    return this.#serial(async () => {
      const { rotateEveryMs, now, store } = this.#options
      const fresh = await this.#loadFresh()
      const nowMs = now()
      if (rotateEveryMs === undefined || (fresh.current.activatedAtMs ?? 0) + rotateEveryMs > nowMs)
        return false
      const wanted = storedAlg(fresh.next) ?? this.#options.alg
      const candidate = rotatedStoredKeys(fresh, {
        nowMs,
        retainAfterMs: this.#options.retainAfterRotationMs,
        current: fresh.next,
        next: { jwk: privateJwk(await generateSigningKey(wanted)) },
      })
      if (!(await store.saveSigningKeys(candidate))) {
        await this.#loadFresh()
        return false
      }
      await this.#adopt(candidate)
      await this.#announce()
      return true
    })
  }

  /** Tells the other instances; best effort, as each also reloads on its own. */
  async #announce(): Promise<void> {
    try {
      await this.#options.store.publish({ type: 'signing-keys' })
    } catch (error) {
      this.#report(error)
    }
  }

  #report(error: unknown): void {
    try {
      this.#options.onError(error)
    } catch {
      // A failing error hook must not become an unhandled rejection.
    }
  }

  #onEvent(event: StoreEvent): void {
    if (event.type === 'signing-keys') this.#requestReload()
  }

  async #tick(): Promise<void> {
    // A tick that outlasts the period (a slow store) is not stacked on.
    if (this.#ticking) return
    this.#ticking = true
    try {
      if (this.#options.rotateEveryMs === undefined) await this.reload()
      else await this.rotateIfDue()
    } catch (error) {
      this.#report(error)
    } finally {
      this.#ticking = false
    }
  }

  /**
   * Listens for `signing-keys` events and starts the periodic reload (and scheduled rotation),
   * every `refreshEveryMs` or `rotateEveryMs`, whichever is shorter. The timer does not keep the
   * process alive. Does nothing when already started.
   */
  start(): void {
    if (this.#timer !== undefined) return
    const { refreshEveryMs, rotateEveryMs } = this.#options
    const periodMs = Math.min(refreshEveryMs, rotateEveryMs ?? Number.POSITIVE_INFINITY)
    this.#timer = setInterval(() => void this.#tick(), periodMs)
    this.#timer.unref()
    try {
      this.#unsubscribe = this.#options.store.subscribe((event) => this.#onEvent(event))
    } catch (error) {
      // Without events, the periodic reload still brings every rotation in.
      this.#report(error)
    }
  }

  /** Stops the timer and the event subscription. */
  stop(): void {
    clearInterval(this.#timer)
    this.#timer = undefined
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = undefined
    try {
      unsubscribe?.()
    } catch (error) {
      this.#report(error)
    }
  }
}
