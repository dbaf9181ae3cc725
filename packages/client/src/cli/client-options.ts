/**
 * The token client `m2m-token` runs, from its command line: the same options a program would give
 * `createTokenClient`, so the CLI behaves as the library does (discovery, retries, the transport
 * rule, the lifecycle and cache keys of a store).
 *
 * @module cli/client-options
 */
import { type ClientAuthStrategy, ConfigurationError } from '@oauth-m2m/core'
import { isSecureTransport } from '@oauth-m2m/core/internal'
import type { TokenClientOptions } from '../options.js'
import type { TokenStore } from '../token-store.js'
import type { CliArguments } from './arguments.js'

/**
 * The client's options for `args`, authenticating with `auth` and keeping tokens in `store`.
 *
 * @throws {ConfigurationError} when `--issuer` or `--token-endpoint` is `http:` to a host that is
 *   not loopback and `--allow-insecure-http` was not given: the library's rule, told in the flags'
 *   words (the library itself then checks every URL again, discovered ones included).
 */
export function clientOptions(
  args: CliArguments,
  auth: ClientAuthStrategy,
  store: TokenStore | undefined,
): TokenClientOptions {
  if (!args.allowInsecureHttp) {
    refuseInsecureHttp('--issuer', args.issuer)
    refuseInsecureHttp('--token-endpoint', args.tokenEndpoint)
  }
  return {
    ...(args.issuer === undefined ? {} : { issuer: args.issuer }),
    ...(args.tokenEndpoint === undefined ? {} : { tokenEndpoint: args.tokenEndpoint }),
    clientId: args.clientId!,
    auth,
    scope: args.scope,
    resource: args.resource,
    audience: args.audience,
    extraParams: args.extraParams,
    allowInsecureHttp: args.allowInsecureHttp,
    // --timeout bounds the whole run: each attempt, and all of them with the waits between.
    ...(args.timeoutMs === undefined
      ? {}
      : { timeoutMs: args.timeoutMs, retry: { deadlineMs: args.timeoutMs } }),
    ...(store === undefined ? {} : { store }),
  }
}

function refuseInsecureHttp(flag: string, value: string | undefined): void {
  if (value === undefined || !URL.canParse(value)) return
  const url = new URL(value)
  if (url.protocol === 'http:' && !isSecureTransport(url)) {
    throw new ConfigurationError(
      `${flag} is http: to ${url.hostname}, which is not loopback: the secret and the token would cross ` +
        'the network unencrypted; use https:, or --allow-insecure-http on a private network (docker-compose)',
    )
  }
}
