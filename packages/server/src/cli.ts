#!/usr/bin/env node
/**
 * `m2m-server`: runs the reference authorization server from the command line.
 *
 * @module cli
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { packageVersion } from '@oauth-m2m/core/internal'
import type { ListenTlsOptions } from './authorization-server.js'
import { createAuthorizationServer } from './authorization-server.js'
import {
  type CliArguments,
  KEY_ENCRYPTION_KEY_ENV,
  KEY_ENCRYPTION_KEY_FALLBACKS_ENV,
  parseCliArguments,
  USAGE,
} from './cli-arguments.js'
import { readConfigFile } from './cli-config-file.js'
import { CliError, EXIT_CODES, fileErrorCode } from './cli-error.js'
import { keysFileStore } from './cli-keys-file.js'
import { type CliRedisStore, type ClosableStore, redisStore, rekeyInBackground } from './cli-redis.js'
import { createCliLog } from './cli-request-log.js'
import { stopOnSignals } from './cli-shutdown.js'
import type { AuthorizationServerConfig } from './config.js'
import type { ServerStore } from './server-store.js'

/** This package's manifest: cli.ts is a top-level module of `src/`, and its bundle of `dist/`. */
const MANIFEST = new URL('../package.json', import.meta.url)

function demoConfig(): { config: AuthorizationServerConfig; banner: string } {
  const clientId = 'demo-client'
  const clientSecret = randomBytes(32).toString('base64url')
  return {
    config: {
      clients: [{ client_id: clientId, client_secret: clientSecret, scope: 'demo:read demo:write' }],
    },
    banner: `demo client_id: ${clientId}\ndemo client_secret: ${clientSecret}\n`,
  }
}

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read ${flag} file ${file}${fileErrorCode(error)}`)
  }
}

/** The TLS listener settings of --tls-cert and --tls-key, or `undefined` for plain HTTP. */
async function listenerTls(args: CliArguments) {
  if (args.tlsCert === undefined || args.tlsKey === undefined) return undefined
  const tls: ListenTlsOptions = {
    cert: await readPem(args.tlsCert, '--tls-cert'),
    key: await readPem(args.tlsKey, '--tls-key'),
  }
  return { tls, ca: args.tlsCa === undefined ? undefined : await readPem(args.tlsCa, '--tls-ca') }
}

/** The configuration the command line asks for: the file (or the demo client) with the flags over it. */
async function configuration(args: CliArguments) {
  let config: AuthorizationServerConfig
  let banner = ''
  let redis = args.redis
  if (args.config === undefined) ({ config, banner } = demoConfig())
  else {
    const file = await readConfigFile(args.config)
    config = file.config
    redis ??= file.redis
  }
  if (args.issuer !== undefined) config = { ...config, issuer: args.issuer }
  // Checked with the rest of the configuration: an unknown name is refused there.
  if (args.profile !== undefined)
    config = { ...config, profile: args.profile as AuthorizationServerConfig['profile'] }
  if (args.keysFile !== undefined && redis !== undefined) {
    throw new CliError(
      '--keys-file and the config file\'s "redis" do not go together: with Redis the signing keys live in Redis',
      EXIT_CODES.usage,
    )
  }
  if (args.keysFile !== undefined && config.signing?.keys !== undefined) {
    throw new CliError(
      "--keys-file and the config file's signing.keys do not go together: the keys come from one place",
      EXIT_CODES.usage,
    )
  }
  return { config, banner, redis }
}

/**
 * The store the flags ask for: Redis, a memory store with its keys in a file, or the default; and
 * a Redis store to rekey after the start, when fallback keys were given.
 */
async function openStore(
  args: CliArguments,
  redis: string | undefined,
): Promise<{ store: ServerStore | undefined; toRekey?: CliRedisStore }> {
  if (redis !== undefined) {
    const { store, hasFallbacks } = await redisStore(redis, args.keyEncryptionKeyFile, process.env, {
      key: KEY_ENCRYPTION_KEY_ENV,
      fallbacks: KEY_ENCRYPTION_KEY_FALLBACKS_ENV,
    })
    return hasFallbacks ? { store, toRekey: store } : { store }
  }
  if (args.keyEncryptionKeyFile !== undefined) {
    throw new CliError(
      '--key-encryption-key-file is for --redis (or a config file with "redis")',
      EXIT_CODES.usage,
    )
  }
  if (args.keysFile !== undefined) return { store: await keysFileStore(args.keysFile) }
  return { store: undefined }
}

/** A Redis URL without its user name and password, to show. */
function redisLocation(url: string): string {
  const location = new URL(url)
  location.username = ''
  location.password = ''
  return location.href
}

/**
 * A store's failure at start arrives wrapped by the server (as the store being unavailable): the
 * CLI's own failure inside it (a keys file that cannot be written) is what to report, and an
 * unreachable Redis is named by its location.
 */
function startFailure(error: unknown, redis: string | undefined): unknown {
  const cause = (error as { cause?: unknown } | null)?.cause
  if (cause instanceof CliError) return cause
  if (redis !== undefined && (error as { code?: unknown } | null)?.code === 'ERR_STORE_UNAVAILABLE') {
    return new CliError(`cannot reach Redis at ${redisLocation(redis)}: ${(error as Error).message}`)
  }
  return error
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'register') {
    // A subcommand of its own (cli-register), loaded only when asked for.
    const { runRegisterCommand } = await import('./cli-register.js')
    process.exitCode = await runRegisterCommand(argv.slice(1))
    return
  }
  const args = parseCliArguments(argv)
  if (args.help) {
    process.stdout.write(USAGE)
    return
  }
  if (args.version) {
    process.stdout.write(`${await packageVersion(MANIFEST, '@oauth-m2m/server')}\n`)
    return
  }
  let { config, banner, redis } = await configuration(args)
  const tls = await listenerTls(args)
  if (tls?.ca !== undefined) config = { ...config, mtls: { ...config.mtls, ca: tls.ca } }

  const log = await createCliLog(args.logLevel)
  const { store, toRekey } = await openStore(args, redis)
  let server: Awaited<ReturnType<typeof createAuthorizationServer>>
  let url: string
  try {
    server = await createAuthorizationServer({
      ...config,
      ...(store === undefined ? {} : { store }),
      onRequest: (entry) => log.request(entry),
      onInternalError: (error) => log.internalError(error),
    })
    ;({ url } = await server.listen({
      port: args.port,
      host: args.host,
      ...(tls === undefined ? {} : { tls: tls.tls }),
    }))
  } catch (error) {
    await (store as Partial<ClosableStore> | undefined)?.close?.().catch(() => undefined)
    throw startFailure(error, redis)
  }
  process.stdout.write(`${banner}listening on ${url}\n`)
  if (toRekey !== undefined) rekeyInBackground(toRekey, log)
  stopOnSignals({
    close: () => server.close(),
    release: async () => (store as Partial<ClosableStore> | undefined)?.close?.(),
    timeoutMs: args.shutdownTimeoutMs,
    log,
    exit: (code) => process.exit(code),
  })
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Configuration errors name the field; nothing here carries a secret.
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`m2m-server: ${message}\n`)
  process.exitCode = error instanceof CliError ? error.exitCode : EXIT_CODES.failure
})
