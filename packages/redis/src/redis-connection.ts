/**
 * The connection every Redis store of this package shares the shape of: a node-redis client (one
 * the store creates from a URL, or one the application hands in), commands with a time limit,
 * Lua scripts, and one subscriber connection per store for pub/sub.
 *
 * A failure of any kind (refused, closed, offline, timed out, an error reply) rejects with
 * `StoreUnavailableError` from `@oauth-m2m/core`, whose message names the operation and never a
 * key or a value.
 *
 * @module redis-connection
 */
import { createHash } from 'node:crypto'
import { ConfigurationError, StoreUnavailableError } from '@oauth-m2m/core'
import { createClient } from '@redis/client'

/** Default of {@link RedisStoreOptions.keyPrefix}. */
export const DEFAULT_KEY_PREFIX = 'oauth-m2m:'

/** Default of {@link RedisStoreOptions.commandTimeoutMs}. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 1000

/** Longest wait between two reconnection attempts of a connection a store created. */
const MAX_RECONNECT_DELAY_MS = 2000

/**
 * Most commands a connection the store created holds waiting for their replies: beyond it a
 * command is refused at once (a 503 upstream) rather than queued behind a slow Redis.
 */
const MAX_QUEUED_COMMANDS = 10_000

/**
 * The subscriber connection: what a store uses of the `duplicate()` of a node-redis client.
 * Any node-redis 5 or 6 client has these members.
 */
export interface RedisSubscriberClient {
  connect(): Promise<unknown>
  subscribe(channel: string, listener: (message: string, channel: string) => unknown): Promise<void>
  close(): Promise<void>
  destroy(): void
  on(event: 'error', listener: (error: Error) => void): unknown
}

/**
 * A node-redis client (`createClient()` of `redis` or `@redis/client`, 5 or 6, any RESP version)
 * as the stores use it: commands through `sendCommand`, pub/sub through a `duplicate()`. Its type
 * mapping must be the default one (strings as strings).
 */
export interface RedisClient {
  /** Whether the client was connected and not closed since. */
  readonly isOpen: boolean
  /** Whether the client is connected now. */
  readonly isReady: boolean
  sendCommand<T = unknown>(args: ReadonlyArray<string>, options?: { timeout?: number }): Promise<T>
  duplicate(): RedisSubscriberClient
}

/** What every Redis store of this package takes: where Redis is, and how long to wait for it. */
export interface RedisStoreOptions {
  /**
   * `redis[s]://[[username][:password]@][host][:port][/db-number]`: the store creates its own
   * connection (with the offline queue disabled, so a command fails at once while Redis is away,
   * and reconnection with back-off up to 2 s) and closes it on `close()`. Give this or `client`.
   */
  url?: string
  /**
   * A connected node-redis client the application owns: the store uses it and never closes it
   * (it does close the subscriber connection it duplicates from it). Disable its offline queue
   * (`disableOfflineQueue: true`) so that commands fail fast while Redis is away; otherwise each
   * still fails after `commandTimeoutMs`.
   */
  client?: RedisClient
  /** Prefix of every key and of the pub/sub channel, so that several deployments can share a Redis. Default `'oauth-m2m:'`. */
  keyPrefix?: string
  /**
   * Time limit of each Redis command, in milliseconds: a command without a reply by then rejects
   * with `StoreUnavailableError`. Default 1000.
   */
  commandTimeoutMs?: number
}

/** The SHA-1 of a Lua script, as `EVALSHA` names it. */
function scriptSha(script: string): string {
  return createHash('sha1').update(script).digest('hex')
}

/** A Lua script, run by its digest and sent again only when Redis does not know it. */
export interface RedisScript {
  readonly source: string
  readonly sha: string
}

/** Makes a {@link RedisScript} of Lua source. */
export function redisScript(source: string): RedisScript {
  return { source, sha: scriptSha(source) }
}

/** Whether an error reply says that Redis does not hold the script (after a restart or `SCRIPT FLUSH`). */
function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

/**
 * A store's connection to Redis. Internal to this package: each store builds one from its
 * {@link RedisStoreOptions}.
 */
export class RedisConnection {
  /** Prefix of every key and of the events channel. */
  readonly keyPrefix: string
  readonly #timeoutMs: number
  readonly #client: RedisClient
  /** Whether `#client` was created here, and so is closed here. */
  readonly #owned: boolean
  #closed = false
  readonly #subscriptions = new Map<string, Set<(message: string) => void>>()
  #subscriber: RedisSubscriberClient | undefined
  #subscriberReady: Promise<void> | undefined
  #resubscribeTimer: NodeJS.Timeout | undefined
  /**
   * Resolves when a connection made here is first up; `undefined` once it was up or failed once.
   * Until then a command waits for it (within its time limit) instead of failing as "offline":
   * a store is used right after it is made. After a failure, commands fail at once until Redis
   * is back.
   */
  #firstConnection: Promise<void> | undefined

  constructor(owner: string, options: RedisStoreOptions) {
    const timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
    if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new ConfigurationError(`${owner}: commandTimeoutMs must be a positive number of milliseconds`)
    }
    this.#timeoutMs = timeoutMs
    this.keyPrefix = options.keyPrefix ?? DEFAULT_KEY_PREFIX
    if (typeof this.keyPrefix !== 'string')
      throw new ConfigurationError(`${owner}: keyPrefix must be a string`)
    if ((options.url === undefined) === (options.client === undefined)) {
      throw new ConfigurationError(`${owner}: give exactly one of url and client`)
    }
    if (options.client !== undefined) {
      this.#client = options.client
      this.#owned = false
    } else {
      const { client, firstAttempt } = createOwnedClient(owner, options.url as string, timeoutMs)
      this.#client = client
      this.#owned = true
      this.#firstConnection = firstAttempt.then(() => {
        this.#firstConnection = undefined
      })
    }
  }

  /** The node-redis client commands go through. */
  get client(): RedisClient {
    return this.#client
  }

  /**
   * Runs one command. Rejects with `StoreUnavailableError` naming `operation` (never the
   * arguments) when Redis cannot answer within the time limit or answers with an error.
   */
  async command<T>(operation: string, args: readonly string[]): Promise<T> {
    await this.#usable(operation)
    try {
      return await this.#client.sendCommand<T>(args, { timeout: this.#timeoutMs })
    } catch (error) {
      throw unavailable(operation, error)
    }
  }

  /** Runs a Lua script with its keys and arguments (`EVALSHA`, then `EVAL` if Redis lacks it). */
  async script<T>(
    operation: string,
    script: RedisScript,
    keys: readonly string[],
    args: readonly string[],
  ): Promise<T> {
    await this.#usable(operation)
    const rest = [String(keys.length), ...keys, ...args]
    try {
      return await this.#client.sendCommand<T>(['EVALSHA', script.sha, ...rest], { timeout: this.#timeoutMs })
    } catch (error) {
      if (!isNoScript(error)) throw unavailable(operation, error)
    }
    try {
      return await this.#client.sendCommand<T>(['EVAL', script.source, ...rest], { timeout: this.#timeoutMs })
    } catch (error) {
      throw unavailable(operation, error)
    }
  }

  /** Rejects when closed; waits (within the time limit) for a first connection still being made. */
  async #usable(operation: string): Promise<void> {
    if (this.#closed) throw new StoreUnavailableError(`Redis ${operation}: the store is closed`)
    const first = this.#firstConnection
    if (first === undefined) return
    let timer: NodeJS.Timeout | undefined
    const timedOut = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#timeoutMs)
    })
    try {
      // The command that follows fails as "offline" if the connection is still not up.
      await Promise.race([first, timedOut])
    } finally {
      clearTimeout(timer)
    }
  }

  /**
   * Calls `listener` with each message published on `channel`, over one subscriber connection
   * per store (created on the first subscription, kept until `close()`), until the returned
   * function is called. While Redis is away the subscriber reconnects by itself and subscribes
   * again; messages published meanwhile are lost (pub/sub is best effort).
   */
  subscribe(channel: string, listener: (message: string) => void): () => void {
    let listeners = this.#subscriptions.get(channel)
    const isNewChannel = listeners === undefined
    if (listeners === undefined) {
      listeners = new Set()
      this.#subscriptions.set(channel, listeners)
    }
    // A wrapper per subscription, so that one listener subscribed twice is called twice.
    const subscription = (message: string) => listener(message)
    listeners.add(subscription)
    if (!this.#closed && isNewChannel) void this.#listen(channel)
    return () => {
      listeners.delete(subscription)
    }
  }

  /** Subscribes the subscriber connection (made on first use) to `channel`. Never rejects. */
  async #listen(channel: string): Promise<void> {
    try {
      await this.#ensureSubscriber()
      const subscriber = this.#subscriber
      if (subscriber === undefined || this.#closed) return
      await subscriber.subscribe(channel, (message) => this.#deliver(channel, message))
    } catch {
      // Redis is away: try the whole subscription again later. node-redis itself subscribes again
      // after a reconnection once a subscription has been made.
      this.#retrySubscriptions()
    }
  }

  #deliver(channel: string, message: string): void {
    for (const listener of this.#subscriptions.get(channel) ?? []) {
      try {
        listener(message)
      } catch {
        // One failing listener must not keep the message from the others.
      }
    }
  }

  async #ensureSubscriber(): Promise<void> {
    if (this.#subscriberReady === undefined) {
      const subscriber = this.#client.duplicate()
      // Without a listener, an 'error' event would end the process; failures show as rejections.
      subscriber.on('error', () => {})
      this.#subscriber = subscriber
      this.#subscriberReady = subscriber.connect().then(
        () => undefined,
        (error: unknown) => {
          this.#subscriber = undefined
          this.#subscriberReady = undefined
          subscriber.destroy()
          throw error
        },
      )
    }
    await this.#subscriberReady
  }

  #retrySubscriptions(): void {
    if (this.#closed || this.#resubscribeTimer !== undefined) return
    this.#resubscribeTimer = setTimeout(() => {
      this.#resubscribeTimer = undefined
      if (this.#closed) return
      if (this.#subscriber !== undefined) {
        this.#subscriber.destroy()
        this.#subscriber = undefined
        this.#subscriberReady = undefined
      }
      for (const channel of this.#subscriptions.keys()) void this.#listen(channel)
    }, MAX_RECONNECT_DELAY_MS)
    this.#resubscribeTimer.unref()
  }

  /**
   * Closes the connections made here: the subscriber always, the command connection when it was
   * created from a URL (never a client the application handed in). Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return
    this.#closed = true
    if (this.#resubscribeTimer !== undefined) clearTimeout(this.#resubscribeTimer)
    this.#subscriptions.clear()
    const closing: Promise<unknown>[] = []
    if (this.#subscriber !== undefined) closing.push(closeClient(this.#subscriber))
    this.#subscriber = undefined
    if (this.#owned) closing.push(closeClient(this.#client as unknown as RedisSubscriberClient))
    await Promise.all(closing)
  }
}

/** Closes a connection gracefully when it is up, at once otherwise; never rejects. */
async function closeClient(client: RedisSubscriberClient): Promise<void> {
  try {
    await client.close()
  } catch {
    try {
      client.destroy()
    } catch {
      // Already closed.
    }
  }
}

/** The typed error of a failed command; only the operation's name goes into the message. */
function unavailable(operation: string, cause: unknown): StoreUnavailableError {
  if (cause instanceof StoreUnavailableError) return cause
  const reason = cause instanceof Error && cause.name !== 'Error' ? ` (${cause.name})` : ''
  return new StoreUnavailableError(`Redis did not answer ${operation}${reason}`, { cause })
}

/**
 * A client of the store's own: connects now and on every loss again (back-off up to 2 s, forever,
 * until closed); while it is not connected, commands fail at once instead of waiting in a queue.
 */
function createOwnedClient(
  owner: string,
  url: string,
  timeoutMs: number,
): { client: RedisClient; firstAttempt: Promise<void> } {
  let client: ReturnType<typeof createClient>
  try {
    client = createClient({
      url,
      disableOfflineQueue: true,
      commandsQueueMaxLength: MAX_QUEUED_COMMANDS,
      socket: {
        connectTimeout: timeoutMs,
        reconnectStrategy: (retries: number) =>
          Math.min(50 * 2 ** Math.min(retries, 6), MAX_RECONNECT_DELAY_MS),
      },
    })
  } catch {
    // Neither the URL nor the parser's error (whose `input` is the URL) is kept: it may hold a password.
    throw new ConfigurationError(`${owner}: url is not a valid redis:// or rediss:// URL`)
  }
  // Resolves, never rejects: a promise that could reject would be one more that some path (a
  // store closed during the handshake, before any command) leaves unhandled, and the failure
  // shows anyway in the command that follows. The first failure ends the wait: from then on
  // commands fail at once until Redis is back.
  const firstAttempt = new Promise<void>((resolve) => {
    client.once('ready', () => resolve())
    client.once('error', () => resolve())
  })
  // Without a listener, an 'error' event would end the process; failures show as rejections.
  client.on('error', () => {})
  // connect() settles only once connected (node-redis retries by itself), or rejects when closed.
  client.connect().catch(() => {})
  return { client: client as unknown as RedisClient, firstAttempt }
}
