/**
 * One run of `m2m-token`: the command line in, a token on stdout, an exit status out. Kept apart
 * from the `bin` entry so that tests can run it with their own streams and environment as well as
 * in a child process.
 *
 * @module cli/run
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { homedir } from 'node:os'
import { TimeoutError } from '@oauth-m2m/core'
import type { StoreErrorMessage } from '../diagnostics.js'
import { CLIENT_CHANNELS } from '../diagnostics.js'
import { packageVersion } from '../package-version.js'
import { createTokenClient, type TokenClient } from '../token-client.js'
import { parseArguments, passesSecretInArgv, USAGE, wantsJson } from './arguments.js'
import { tokenCacheDirectory } from './cache-directory.js'
import { UsageError } from './cli-errors.js'
import { CliReport, type TextSink } from './cli-report.js'
import { clientCredentials } from './client-credentials.js'
import { clientOptions } from './client-options.js'
import { EXIT_CODES, type ExitCode, exitCodeFor } from './exit-codes.js'
import { FileTokenStore } from './file-token-store.js'
import { tokenOutput } from './token-output.js'

/** What a run reads and writes: the process's own, or a test's. */
export interface CliIo {
  /** The arguments after the program name. */
  argv: readonly string[]
  env: Readonly<Record<string, string | undefined>>
  /** Read only with `--client-secret-stdin`. */
  stdin: AsyncIterable<Buffer | string>
  stdout: TextSink
  stderr: TextSink
}

/** Runs `m2m-token` once and returns its exit status (see {@link EXIT_CODES}); never throws. */
export async function runCli(io: CliIo): Promise<ExitCode> {
  const report = new CliReport(io.stderr, { json: wantsJson(io.argv) })
  try {
    return await run(io, report)
  } catch (error) {
    report.failure(error)
    return exitCodeFor(error)
  }
}

async function run(io: CliIo, report: CliReport): Promise<ExitCode> {
  if (passesSecretInArgv(io.argv)) {
    throw new UsageError(
      'a secret is never taken from the command line, where other users can read it: use ' +
        '--client-secret-file PATH, --client-secret-stdin or --client-secret-env NAME',
    )
  }
  const args = parseArguments(io.argv)
  if (args.help) {
    io.stdout.write(USAGE)
    return EXIT_CODES.ok
  }
  if (args.version) {
    io.stdout.write(`${await packageVersion()}\n`)
    return EXIT_CODES.ok
  }
  const { auth, sensitive } = await clientCredentials(args.credentials, io)
  report.protect(sensitive)
  const options = clientOptions(args, auth, undefined)
  const store = args.cache
    ? await FileTokenStore.open(
        tokenCacheDirectory({ platform: process.platform, env: io.env, homedir: homedir() }),
      )
    : undefined
  // The client bypasses a failing store and says so on this channel; a script sees it as a warning.
  const onStoreError = (message: unknown) => {
    const { operation, error } = message as StoreErrorMessage
    const what = operation === 'get' ? 'read from' : 'written to'
    report.warning('ERR_CACHE', `the token cache could not be ${what}: ${error.message}`)
  }
  if (store) diagnostics_channel.subscribe(CLIENT_CHANNELS.storeError, onStoreError)
  const startedAt = Date.now()
  const client = createTokenClient(store ? { ...options, store } : options)
  try {
    const token = await tokenWithin(client, args.timeoutMs)
    report.protect([token.accessToken])
    // A token issued before this run began can only have come from the cache.
    const fromCache = token.issuedAt < startedAt
    io.stdout.write(
      tokenOutput(token, { json: args.json, decode: args.decode, fromCache, nowMs: Date.now() }),
    )
    return EXIT_CODES.ok
  } finally {
    if (store) {
      // The client writes to its store in the background: let it start, then wait for it, so the
      // token just fetched is on disk before the process ends.
      await new Promise((resolve) => setImmediate(resolve))
      await store.settled()
      await new Promise((resolve) => setImmediate(resolve))
      diagnostics_channel.unsubscribe(CLIENT_CHANNELS.storeError, onStoreError)
    }
    await client.close()
  }
}

/**
 * The client's token, within `timeoutMs` for the whole run when given. The client's own limits
 * bound each request and the retries, but discovery and the token request each get the full
 * per-request limit: the signal holds `--timeout` to what it promises, discovery included.
 */
async function tokenWithin(client: TokenClient, timeoutMs: number | undefined) {
  if (timeoutMs === undefined) return client.getToken()
  const signal = AbortSignal.timeout(timeoutMs)
  try {
    return await client.getToken({ signal })
  } catch (error) {
    if (signal.aborted && error === signal.reason) {
      throw new TimeoutError(`no token within the --timeout of ${timeoutMs / 1000} s`, timeoutMs)
    }
    throw error
  }
}
