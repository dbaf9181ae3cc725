#!/usr/bin/env node
/**
 * `m2m-test-server`: the test authorization server of @oauth-m2m/testing from the command line,
 * for test suites written in other languages (the documented equivalent of `m2m-server --dev`,
 * which cannot live in @oauth-m2m/server: this package depends on it).
 *
 * @module cli/m2m-test-server
 */
import { startAuthorizationServer } from '../start-authorization-server.js'
import type { TestListener } from '../test-listener.js'
import { ADMIN_PATH, startAdminEndpoint } from './admin-endpoint.js'
import { formatBanner } from './banner.js'
import { parseCliArguments, USAGE } from './cli-arguments.js'
import { CliError } from './cli-error.js'
import { readConfigFile } from './config-file.js'
import { devServerInfo } from './dev-server-info.js'
import { devServerOptions } from './dev-server-options.js'

async function main(argv: readonly string[]): Promise<void> {
  const args = parseCliArguments(argv)
  if (args.help) {
    process.stdout.write(USAGE)
    return
  }
  const file = args.config === undefined ? {} : await readConfigFile(args.config)
  const { options, profile } = await devServerOptions(args, file)
  const as = await startAuthorizationServer(options)
  const info = () => devServerInfo(as, profile)
  let admin: TestListener | undefined
  try {
    if (args.admin) {
      admin = await startAdminEndpoint({
        server: as,
        seed: args.seed,
        info,
        port: args.adminPort,
        ...(options.host === undefined ? {} : { host: options.host }),
      })
    }
    process.stdout.write(formatBanner(info(), admin === undefined ? undefined : `${admin.url}${ADMIN_PATH}`))
  } catch (error) {
    await admin?.close()
    await as.close()
    throw error
  }
  const stop = (): void => {
    Promise.all([admin?.close(), as.close()]).then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // One line: messages name options and members, never a secret.
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`m2m-test-server: ${message.replace(/\s*\n\s*/g, ' ')}\n`)
  process.exitCode = error instanceof CliError ? error.exitCode : 1
})
