/**
 * The CLI's log: one JSON line per request on stdout, written by pino (loaded here, when the CLI
 * starts, so that the library never imports it), with the server's internal errors and the
 * shutdown in the same stream.
 *
 * @module cli-request-log
 */
import type { Logger } from 'pino'
import { CliError, EXIT_CODES } from './cli-error.js'
import type { RequestLogEntry } from './request-log.js'

/** The values of `--log-level`, most verbose first. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const

/** A `--log-level`. */
export type LogLevel = (typeof LOG_LEVELS)[number]

/** Probes call these every few seconds: their lines would drown the rest at `info`. */
const PROBE_PATHS = new Set(['/healthz', '/readyz'])

/** What the CLI logs. */
export interface CliLog {
  /** The server's `onRequest`: a 5xx at `error`, a health probe at `debug`, anything else at `info`. */
  request(entry: RequestLogEntry): void
  /** The server's `onInternalError`: the error's name and message at `error`, nothing else. */
  internalError(error: unknown): void
  /** A line at `info`, with fields. */
  info(message: string, fields?: Record<string, unknown>): void
  /** A line at `warn`, with fields. */
  warn(message: string, fields?: Record<string, unknown>): void
}

/**
 * Parses `--log-level`.
 *
 * @throws {CliError} (usage) for a value that is not a level.
 */
export function parseLogLevel(value: string | undefined): LogLevel {
  if (value === undefined) return 'info'
  if (!(LOG_LEVELS as readonly string[]).includes(value)) {
    throw new CliError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`, EXIT_CODES.usage)
  }
  return value as LogLevel
}

/** Writes `level` and above to stdout, one JSON object per line. */
export async function createCliLog(level: LogLevel): Promise<CliLog> {
  const { default: pino } = await import('pino')
  const logger: Logger = pino(
    {
      level,
      // Level names rather than numbers, and ISO times: read by people as often as by collectors.
      formatters: { level: (label) => ({ level: label }) },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    // Written synchronously: pino's default buffers, and the CLI ends with process.exit, where a
    // buffered line could come out after a later one (or not at all after a forced exit).
    pino.destination({ dest: 1, sync: true }),
  )
  return {
    request(entry) {
      if (entry.status >= 500) logger.error(entry, 'request')
      else if (PROBE_PATHS.has(entry.path)) logger.debug(entry, 'request')
      else logger.info(entry, 'request')
    },
    internalError(error) {
      // As the library's default: an internal error's other properties could hold request data.
      const summary = error instanceof Error ? `${error.name}: ${error.message}` : 'non-Error value thrown'
      logger.error({ error: summary }, 'internal error')
    },
    info(message, fields = {}) {
      logger.info(fields, message)
    },
    warn(message, fields = {}) {
      logger.warn(fields, message)
    },
  }
}
