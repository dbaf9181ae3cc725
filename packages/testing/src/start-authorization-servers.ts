/**
 * `startAuthorizationServers`: several test authorization servers in one process, on one loopback
 * port, each its own issuer by path (`http://127.0.0.1:<port>/tenant-a`) with its own keys and
 * clients — the multi-tenant layout of Entra, Keycloak realms or Auth0 tenants, for a verifier or
 * client that must keep issuers apart.
 *
 * @module start-authorization-servers
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createTestClock } from './clock.js'
import { type RequestRouter, routerOf } from './request-router.js'
import type {
  StartAuthorizationServerOptions,
  StartedAuthorizationServer,
} from './start-authorization-server.js'
import { prepareTestServerConfig, testServerHandle } from './test-authorization-server.js'
import { listenerLimits, startTestListener, type TestListener } from './test-listener.js'
import { loadUndici } from './undici-loader.js'

/** Most issuers one call starts: each has its own keys, and a test needs a handful. */
export const MAX_ISSUERS = 100

/** Options of {@link startAuthorizationServers}: those of `startAuthorizationServer`, for every issuer. */
export type StartAuthorizationServersOptions = StartAuthorizationServerOptions

/** Several test authorization servers sharing one listener. */
export interface StartedAuthorizationServers {
  /** Base URL of the listener, e.g. `http://127.0.0.1:43121`; each issuer is this plus its name. */
  readonly url: string
  /** The servers, in the order of the names. */
  readonly servers: readonly StartedAuthorizationServer[]
  /** The servers by name: `byName['tenant-a'].issuer` is `${url}/tenant-a`. */
  readonly byName: Readonly<Record<string, StartedAuthorizationServer>>
  /** Stops every server and the listener. */
  close(): Promise<void>
}

const SEGMENT = /^[A-Za-z0-9._~-]+$/

function issuerNames(issuers: number | readonly string[]): readonly string[] {
  if (typeof issuers === 'number') {
    if (!Number.isInteger(issuers) || issuers < 1 || issuers > MAX_ISSUERS) {
      throw new ConfigurationError(
        `@oauth-m2m/testing: startAuthorizationServers takes 1 to ${MAX_ISSUERS} issuers`,
      )
    }
    return Array.from({ length: issuers }, (_, i) => `tenant-${i + 1}`)
  }
  if (!Array.isArray(issuers) || issuers.length < 1 || issuers.length > MAX_ISSUERS) {
    throw new ConfigurationError(
      `@oauth-m2m/testing: startAuthorizationServers takes a count or a list of 1 to ${MAX_ISSUERS} names`,
    )
  }
  for (const name of issuers) {
    const segments = typeof name === 'string' ? name.split('/') : []
    const valid =
      segments.length > 0 &&
      segments.every((s) => SEGMENT.test(s) && s !== '.' && s !== '..') &&
      segments[0] !== '.well-known'
    if (!valid) {
      throw new ConfigurationError(
        `@oauth-m2m/testing: issuer name ${JSON.stringify(name)} must be path segments of letters, digits and -._~ joined by /`,
      )
    }
  }
  for (const name of issuers) {
    const clash = issuers.find((other) => other !== name && other.startsWith(`${name}/`))
    if (issuers.indexOf(name) !== issuers.lastIndexOf(name) || clash !== undefined) {
      throw new ConfigurationError(
        `@oauth-m2m/testing: issuer name "${name}" is given twice or is a path prefix of "${clash ?? name}"`,
      )
    }
  }
  return issuers
}

function notFound(): Response {
  return new Response(JSON.stringify({ error: 'not_found', error_description: 'no such endpoint' }), {
    status: 404,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  })
}

/**
 * Starts one test authorization server per name (or `tenant-1` … `tenant-n` for a count) on one
 * loopback port. Each is a full {@link StartedAuthorizationServer}: issuer `${url}/${name}`, its
 * metadata at the RFC 8414 §3 location (`${url}/.well-known/oauth-authorization-server/${name}`),
 * its own signing keys, clients (the default client and `options.clients`, with credentials
 * generated for each server), request log and injected failures. They share one clock (the
 * `now` option): moving any server's `clock` moves them all. A server's own `close()` stops that
 * issuer only (its paths answer 404); `close()` of the result stops all and the listener.
 *
 * @param issuers How many issuers (1 to {@link MAX_ISSUERS}), or their names: path segments of
 *   `A–Z a–z 0–9 - . _ ~` joined by `/` (e.g. `tenant-a`, `realms/orders`), none a path prefix of
 *   another.
 * @param options Options for every server, as for `startAuthorizationServer` (no `issuer`).
 * @throws {ConfigurationError} for an invalid count or name, invalid options, or a provider
 *   `profile` other than `'rfc9068'`.
 */
export async function startAuthorizationServers(
  issuers: number | readonly string[],
  options: StartAuthorizationServersOptions = {},
): Promise<StartedAuthorizationServers> {
  await loadUndici()
  const names = issuerNames(issuers)
  const { port = 0, host = '127.0.0.1', ...serverOptions } = options
  if ('issuer' in serverOptions) {
    throw new ConfigurationError(
      '@oauth-m2m/testing: startAuthorizationServers takes no issuer; each is the listener URL and its name',
    )
  }
  // A provider profile decides the issuer's URL itself, which clashes with issuers by name.
  if (serverOptions.profile !== undefined && serverOptions.profile !== 'rfc9068') {
    throw new ConfigurationError(
      "@oauth-m2m/testing: startAuthorizationServers serves the 'rfc9068' profile only; start one server per provider profile",
    )
  }
  const live = new Map<string, RequestRouter>()
  const listener: TestListener = await startTestListener(
    (request, context) => {
      const url = new URL(request.url)
      for (const router of live.values()) if (router.owns(url)) return router.handle(request, context)
      return Promise.resolve(notFound())
    },
    { host, port, ...listenerLimits(serverOptions) },
  )
  const clock = createTestClock(serverOptions.now)
  const servers: StartedAuthorizationServer[] = []
  try {
    for (const name of names) {
      const issuer = `${listener.url}/${name}`
      const prepared = prepareTestServerConfig(serverOptions, issuer, clock)
      const server = await createAuthorizationServer(prepared.config)
      const handle = testServerHandle(server, prepared, async () => {
        live.delete(name)
        await server.close()
      })
      const router = routerOf(handle)
      if (router === undefined) throw new Error('@oauth-m2m/testing: the test server has no request router')
      live.set(name, router)
      prepared.profile.useListener(listener.url)
      // Assigned, not spread: a spread would freeze `clientIds`, which follows `createClient`.
      servers.push(Object.assign(handle, { url: issuer }))
    }
  } catch (error) {
    await Promise.all(servers.map((s) => s.close()))
    await listener.close()
    throw error
  }
  const byName = Object.freeze(Object.fromEntries(names.map((name, i) => [name, servers[i]!])))
  let closed: Promise<void> | undefined
  return {
    url: listener.url,
    servers: Object.freeze([...servers]),
    byName,
    close() {
      closed ??= Promise.all(servers.map((s) => s.close())).then(() => listener.close())
      return closed
    },
  }
}
