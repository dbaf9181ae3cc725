#!/usr/bin/env node
/**
 * `m2m-server`: runs the reference authorization server from the command line.
 *
 * @module cli
 */
import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import {
  type AuthorizationServer,
  createAuthorizationServer,
  type ListenTlsOptions,
} from './authorization-server.js'
import type { AuthorizationServerConfig } from './config.js'

const USAGE = `Usage: m2m-server [options]

Runs an OAuth 2.0 authorization server for the client_credentials grant.

Options:
  --config FILE   JSON configuration file (see the README); without it, a demo client is generated
                  and its client_id and client_secret are printed once
  --port N        TCP port, 0 for any free port (default 0)
  --host HOST     address to bind (default 127.0.0.1)
  --issuer URL    issuer identifier (default: the config's issuer, else the listening URL)
  --profile NAME  fapi2: the FAPI 2.0 Security Profile (overrides the config's profile; needs
                  --config, as the demo client's shared secret is refused under it)
  --tls-cert FILE serve HTTPS with this certificate (PEM); needs --tls-key. Client certificates
                  are asked for, not required: secret clients use the same listener
  --tls-key FILE  the private key of --tls-cert (PEM)
  --tls-ca FILE   CA certificates (PEM) that issue client certificates: turns mutual TLS on
                  (RFC 8705) as the config's mtls.ca, which it replaces; needs --tls-cert
  --dev           not here: the development server is \`npx m2m-test-server\` (@oauth-m2m/testing)
  -h, --help      show this help

Prints "listening on <url>" once ready; SIGINT or SIGTERM stops it.
`

/** A failure to report on stderr without a stack trace. */
class CliError extends Error {
  /** 2 for a usage error, 1 otherwise. */
  readonly exitCode: number

  constructor(message: string, exitCode = 1) {
    super(message)
    this.exitCode = exitCode
  }
}

async function loadConfig(file: string): Promise<AuthorizationServerConfig> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw new CliError(`cannot read config file ${file}${typeof code === 'string' ? ` (${code})` : ''}`)
  }
  try {
    return JSON.parse(text) as AuthorizationServerConfig
  } catch {
    throw new CliError(`config file ${file} is not valid JSON`)
  }
}

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

function parsePort(value: string | undefined): number {
  if (value === undefined) return 0
  const port = Number(value)
  if (!/^\d+$/.test(value) || port > 65_535)
    throw new CliError(`--port must be an integer from 0 to 65535\n\n${USAGE}`, 2)
  return port
}

/**
 * The development server needs the test helpers and provider profiles of @oauth-m2m/testing,
 * which depends on this package: it cannot live here without a dependency cycle.
 */
const DEV_MOVED =
  '--dev is not part of m2m-server: run `npx m2m-test-server` from @oauth-m2m/testing (seeded keys, --profile, admin endpoint)'

async function readPem(file: string, flag: string): Promise<string> {
  try {
    return await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw new CliError(`cannot read ${flag} file ${file}${typeof code === 'string' ? ` (${code})` : ''}`)
  }
}

/** The TLS listener settings of --tls-cert and --tls-key, or `undefined` for plain HTTP. */
async function listenerTls(values: { 'tls-cert'?: string; 'tls-key'?: string; 'tls-ca'?: string }) {
  const { 'tls-cert': certFile, 'tls-key': keyFile, 'tls-ca': caFile } = values
  if ((certFile === undefined) !== (keyFile === undefined)) {
    throw new CliError(`--tls-cert and --tls-key go together\n\n${USAGE}`, 2)
  }
  if (caFile !== undefined && certFile === undefined) {
    throw new CliError(`--tls-ca needs --tls-cert and --tls-key (a TLS listener)\n\n${USAGE}`, 2)
  }
  if (certFile === undefined || keyFile === undefined) return undefined
  const tls: ListenTlsOptions = {
    cert: await readPem(certFile, '--tls-cert'),
    key: await readPem(keyFile, '--tls-key'),
  }
  return { tls, ca: caFile === undefined ? undefined : await readPem(caFile, '--tls-ca') }
}

async function main(argv: string[]): Promise<void> {
  if (argv[0] === 'register') {
    // A subcommand of its own (cli-register), loaded only when asked for.
    const { runRegisterCommand } = await import('./cli-register.js')
    process.exitCode = await runRegisterCommand(argv.slice(1))
    return
  }
  // Before parsing: `--dev` comes with the development server's own options (`--seed`, `--profile`),
  // which would otherwise be refused as unknown before the pointer to the right command is shown.
  const options = argv.indexOf('--') === -1 ? argv : argv.slice(0, argv.indexOf('--'))
  if (options.includes('--dev')) throw new CliError(DEV_MOVED, 2)
  let values: {
    config?: string
    port?: string
    host?: string
    issuer?: string
    profile?: string
    'tls-cert'?: string
    'tls-key'?: string
    'tls-ca'?: string
    help?: boolean
  }
  try {
    ;({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        issuer: { type: 'string' },
        profile: { type: 'string' },
        'tls-cert': { type: 'string' },
        'tls-key': { type: 'string' },
        'tls-ca': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }))
  } catch (error) {
    throw new CliError(`${(error as Error).message}\n\n${USAGE}`, 2)
  }
  if (values.help) {
    process.stdout.write(USAGE)
    return
  }
  const port = parsePort(values.port)
  let config: AuthorizationServerConfig
  let banner = ''
  if (values.config === undefined) ({ config, banner } = demoConfig())
  else config = await loadConfig(values.config)
  if (values.issuer !== undefined) config = { ...config, issuer: values.issuer }
  if (values.profile !== undefined) {
    if (values.config === undefined) {
      throw new CliError(
        `--profile ${values.profile} needs --config: the demo client authenticates with a shared secret\n\n${USAGE}`,
        2,
      )
    }
    // Checked with the rest of the configuration: an unknown name is refused there.
    config = { ...config, profile: values.profile as AuthorizationServerConfig['profile'] }
  }

  const tls = await listenerTls(values)
  if (tls?.ca !== undefined) config = { ...config, mtls: { ...config.mtls, ca: tls.ca } }

  const server: AuthorizationServer = await createAuthorizationServer(config)
  const { url } = await server.listen({
    port,
    host: values.host ?? '127.0.0.1',
    ...(tls === undefined ? {} : { tls: tls.tls }),
  })
  process.stdout.write(`${banner}listening on ${url}\n`)
  const stop = (): void => {
    server.close().then(
      () => process.exit(0),
      () => process.exit(1),
    )
  }
  process.once('SIGINT', stop)
  process.once('SIGTERM', stop)
}

main(process.argv.slice(2)).catch((error: unknown) => {
  // Configuration errors name the field; nothing here carries a secret.
  const message = error instanceof Error ? error.message : String(error)
  process.stderr.write(`m2m-server: ${message}\n`)
  process.exitCode = error instanceof CliError ? error.exitCode : 1
})
