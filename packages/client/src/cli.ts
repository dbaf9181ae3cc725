#!/usr/bin/env node
/**
 * `m2m-token`: fetches one client_credentials access token and prints it, for scripts and for
 * poking at an authorization server. The secret is read from an environment variable, never from
 * the command line, where other users of the machine could see it.
 *
 * @module cli
 */
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import {
  type ClientAuthStrategy,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  OAuthM2MError,
  OAuthResponseError,
  privateKeyJwt,
} from '@oauth-m2m/core'
import { decodeJwt, decodeProtectedHeader, type JWK } from 'jose'
import { createTokenClient } from './token-client.js'
import { RESERVED_PARAMS } from './token-parameters.js'
import type { TokenSet } from './token-set.js'

const USAGE = `Usage: m2m-token (--issuer URL | --token-endpoint URL) --client-id ID [credentials] [options]

Fetches an OAuth 2.0 access token with the client_credentials grant and prints it.

Server:
  --issuer URL              issuer identifier; the token endpoint is discovered (RFC 8414)
  --token-endpoint URL      token endpoint, without discovery

Credentials:
  --client-id ID            the client's client_id
  --client-secret-env NAME  read the client secret from environment variable NAME
  --private-key FILE        private key for private_key_jwt: a JWK (JSON) or PEM file
  --kid KID                 key id put in the assertion header (default: the JWK's kid)
  --auth-method METHOD      client_secret_basic (default with a secret), client_secret_post,
                            client_secret_jwt, private_key_jwt (default with a key)

Request:
  --scope SCOPE             scope to request; repeat or separate with spaces
  --resource URI            RFC 8707 resource indicator; repeatable
  --audience AUDIENCE       audience parameter (Auth0's API identifier); repeatable
  --param NAME=VALUE        any other token-request parameter; repeatable (names the client
                            sets itself, such as scope or client_id, are refused)

Output (default: the access token alone):
  --json                    the token endpoint's whole JSON answer plus expires_at (epoch
                            seconds, like a JWT's exp), as one JSON object
  --decode                  the header and claims of a JWT access token as one JSON object
                            ({ "header": …, "claims": … }); never its signature
  -h, --help                show this help

Exit status: 0 on success; 1 when the server refuses or cannot be reached (the OAuth error is
printed on stderr); 2 on a usage error; 3 when --decode was asked for and the access token is
not a JWT (an opaque token: nothing to decode, a message on stderr).
`

/** A usage error: printed with a hint, exit status 2. */
class UsageError extends Error {}

/** The access token is opaque, so `--decode` has nothing to show: exit status 3. */
class OpaqueTokenError extends Error {}

/** The flag that sets a parameter the client sends itself, for the usage error. */
const FLAG_FOR_PARAM: Readonly<Record<string, string>> = {
  scope: '--scope',
  resource: '--resource',
  audience: '--audience',
}

/** `--param NAME=VALUE` values as extra parameters, refusing names the client sets itself. */
function extraParamsFrom(params: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const param of params) {
    const at = param.indexOf('=')
    if (at <= 0) throw new UsageError(`--param takes NAME=VALUE, not ${JSON.stringify(param)}`)
    const name = param.slice(0, at)
    if (RESERVED_PARAMS.has(name)) {
      const flag = FLAG_FOR_PARAM[name]
      throw new UsageError(
        flag === undefined
          ? `--param cannot set ${name}: m2m-token sets it itself`
          : `--param cannot set ${name}: use ${flag}`,
      )
    }
    if (Object.hasOwn(out, name)) throw new UsageError(`--param ${name} is given twice`)
    out[name] = param.slice(at + 1)
  }
  return out
}

/** What is printed on stdout for `token`, as the output flags ask. */
function output(
  token: TokenSet,
  values: { json?: boolean | undefined; decode?: boolean | undefined },
): string {
  if (values.json) {
    // Epoch seconds, like a JWT's exp: when this client counts the token as expired, which is
    // also bounded by maxLifetimeSec.
    const expiresAt = Math.floor(token.expiresAt / 1000)
    return `${JSON.stringify({ ...token.response, expires_at: expiresAt }, null, 2)}\n`
  }
  if (values.decode) {
    let decoded: { header: unknown; claims: unknown }
    try {
      // Only the first two parts are read: the signature is never printed.
      decoded = { header: decodeProtectedHeader(token.accessToken), claims: decodeJwt(token.accessToken) }
    } catch {
      throw new OpaqueTokenError(
        'the access token is not a signed JWT (it is opaque or encrypted): nothing to decode',
      )
    }
    return `${JSON.stringify(decoded, null, 2)}\n`
  }
  return `${token.accessToken}\n`
}

const SECRET_METHODS = new Set(['client_secret_basic', 'client_secret_post', 'client_secret_jwt'])

async function strategyFrom(values: {
  'client-secret-env'?: string | undefined
  'private-key'?: string | undefined
  kid?: string | undefined
  'auth-method'?: string | undefined
}): Promise<ClientAuthStrategy> {
  const secretEnv = values['client-secret-env']
  const keyFile = values['private-key']
  if (secretEnv !== undefined && keyFile !== undefined) {
    throw new UsageError('give either --client-secret-env or --private-key, not both')
  }
  const method = values['auth-method'] ?? (keyFile !== undefined ? 'private_key_jwt' : 'client_secret_basic')
  if (method === 'private_key_jwt') {
    if (keyFile === undefined) throw new UsageError('private_key_jwt needs --private-key FILE')
    const text = await readFile(keyFile, 'utf8').catch(() => {
      throw new UsageError(`cannot read the private key file ${keyFile}`)
    })
    let key: JWK | string = text
    if (text.trimStart().startsWith('{')) {
      try {
        key = JSON.parse(text) as JWK
      } catch {
        throw new UsageError(`${keyFile} is neither a JWK nor a PEM key`)
      }
    }
    return privateKeyJwt(key, values.kid === undefined ? {} : { kid: values.kid })
  }
  if (!SECRET_METHODS.has(method)) throw new UsageError(`unknown --auth-method ${method}`)
  if (secretEnv === undefined) throw new UsageError(`${method} needs --client-secret-env NAME`)
  const secret = process.env[secretEnv]
  if (secret === undefined || secret === '') {
    throw new UsageError(`environment variable ${secretEnv} is not set or empty`)
  }
  if (method === 'client_secret_post') return clientSecretPost(secret)
  if (method === 'client_secret_jwt') return clientSecretJwt(secret)
  return clientSecretBasic(secret)
}

async function main(argv: string[]): Promise<number> {
  if (argv.some((arg) => arg === '--client-secret' || arg.startsWith('--client-secret='))) {
    process.stderr.write(
      'm2m-token: a secret is never taken from the command line; use --client-secret-env NAME\n',
    )
    return 2
  }
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(argv)
  } catch (error) {
    process.stderr.write(`m2m-token: ${(error as Error).message}\n\n${USAGE}`)
    return 2
  }
  const { values } = parsed
  if (values.help) {
    process.stdout.write(USAGE)
    return 0
  }
  try {
    if (values.issuer === undefined && values['token-endpoint'] === undefined) {
      throw new UsageError('give --issuer or --token-endpoint')
    }
    if (values['client-id'] === undefined) throw new UsageError('give --client-id')
    if (values.json && values.decode) throw new UsageError('give --json or --decode, not both')
    const extraParams = extraParamsFrom(values.param ?? [])
    const auth = await strategyFrom(values)
    const client = createTokenClient({
      ...(values.issuer === undefined ? {} : { issuer: values.issuer }),
      ...(values['token-endpoint'] === undefined ? {} : { tokenEndpoint: values['token-endpoint'] }),
      clientId: values['client-id'],
      auth,
      scope: values.scope ?? [],
      resource: values.resource ?? [],
      audience: values.audience ?? [],
      extraParams,
    })
    try {
      process.stdout.write(output(await client.getToken(), values))
      return 0
    } finally {
      await client.close()
    }
  } catch (error) {
    if (error instanceof OpaqueTokenError) {
      process.stderr.write(`m2m-token: ${error.message}\n`)
      return 3
    }
    if (error instanceof UsageError) {
      process.stderr.write(`m2m-token: ${error.message}\n(see m2m-token --help)\n`)
      return 2
    }
    if (error instanceof OAuthResponseError) {
      const description = error.errorDescription ? `: ${error.errorDescription}` : ''
      process.stderr.write(`m2m-token: ${error.error}${description} (HTTP ${error.status})\n`)
      return 1
    }
    if (error instanceof OAuthM2MError) {
      const usage = error.code === 'ERR_CONFIGURATION'
      process.stderr.write(`m2m-token: ${error.message}\n`)
      return usage ? 2 : 1
    }
    process.stderr.write(`m2m-token: ${error instanceof Error ? error.message : String(error)}\n`)
    return 1
  }
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      issuer: { type: 'string' },
      'token-endpoint': { type: 'string' },
      'client-id': { type: 'string' },
      'client-secret-env': { type: 'string' },
      'private-key': { type: 'string' },
      kid: { type: 'string' },
      'auth-method': { type: 'string' },
      scope: { type: 'string', multiple: true },
      resource: { type: 'string', multiple: true },
      audience: { type: 'string', multiple: true },
      param: { type: 'string', multiple: true },
      json: { type: 'boolean' },
      decode: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  })
}

process.exitCode = await main(process.argv.slice(2))
