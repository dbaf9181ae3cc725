/**
 * Graceful shutdown of `m2m-server` on SIGTERM (what container runtimes send) and SIGINT (Ctrl-C):
 * stop accepting connections, let the requests in flight be answered, then exit 0; past the time
 * limit, or on a second signal, exit 1 at once.
 *
 * @module cli-shutdown
 */
import { EXIT_CODES } from './cli-error.js'
import type { CliLog } from './cli-request-log.js'

/** What {@link stopOnSignals} needs. */
export interface ShutdownOptions {
  /** Stops accepting and resolves once the requests in flight are answered (`AuthorizationServer.close`). */
  close(): Promise<void>
  /** Releases what outlives the listener (a Redis connection), after `close`. */
  release?(): Promise<void>
  /** Longest wait for the requests in flight, in milliseconds. */
  timeoutMs: number
  log: CliLog
  /** Ends the process. */
  exit(code: number): void
}

/** Listens for SIGTERM and SIGINT; the first starts the shutdown, a second one ends it at once. */
export function stopOnSignals(options: ShutdownOptions): void {
  let stopping = false
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      options.log.warn('stopped at once: a second signal', { signal })
      options.exit(EXIT_CODES.failure)
      return
    }
    stopping = true
    options.log.info('shutting down', { signal, timeoutMs: options.timeoutMs })
    const timer = setTimeout(() => {
      options.log.warn('shutdown timed out: requests in flight were cut', { timeoutMs: options.timeoutMs })
      options.exit(EXIT_CODES.failure)
    }, options.timeoutMs)
    options
      .close()
      .then(() => options.release?.())
      .then(
        () => {
          clearTimeout(timer)
          options.log.info('stopped')
          options.exit(EXIT_CODES.ok)
        },
        (error: unknown) => {
          clearTimeout(timer)
          options.log.internalError(error)
          options.exit(EXIT_CODES.failure)
        },
      )
  }
  process.on('SIGTERM', onSignal)
  process.on('SIGINT', onSignal)
}
