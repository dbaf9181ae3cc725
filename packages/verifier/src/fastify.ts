/**
 * Bearer-token plugin for Fastify 5, with the verified {@link Principal} on `request.auth` and a
 * per-route option in the route's `config.bearerAuth`.
 *
 * ```ts
 * import Fastify from 'fastify'
 * import { bearerAuth } from '@oauth-m2m/verifier/fastify'
 *
 * const app = Fastify()
 * await app.register(bearerAuth, { verifier, realm: 'things-api' })
 * app.get('/things', { config: { bearerAuth: { requiredScopes: ['read:things'] } } }, (request) => ({
 *   caller: request.auth?.clientId,
 * }))
 * app.get('/health', { config: { bearerAuth: false } }, () => 'ok')
 * ```
 *
 * @module fastify
 */
import { ConfigurationError } from '@oauth-m2m/core'
import type { FastifyPluginCallback, onRequestAsyncHookHandler, RouteOptions } from 'fastify'
import { authenticate } from './middleware/authenticate.js'
import { Challenge } from './middleware/challenge.js'
import { nodeCredentials } from './middleware/node-http.js'
import {
  type BearerAuthOptions,
  type BearerAuthSettings,
  resolveBearerAuthOptions,
  verifyOptionsFor,
} from './middleware/options.js'
import { originOf } from './middleware/request-url.js'
import type { Principal, VerifyOptions } from './types.js'

export type { TrustedProxyOptions } from './middleware/client-certificate.js'
export type { BearerAuthOptions } from './middleware/options.js'
export type { ResourceMetadataOptions } from './middleware/resource-metadata.js'
export type { Principal } from './types.js'

/** What a route says about bearer authentication in `config.bearerAuth`. */
export interface RouteBearerAuthConfig {
  /**
   * Scopes this route needs in addition to the plugin's `requiredScopes`. (Formerly `scopes`,
   * which is now refused with a `ConfigurationError` when the route is declared.)
   */
  requiredScopes?: readonly string[]
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who called, set by the `@oauth-m2m/verifier/fastify` plugin; `null` on unprotected routes. */
    auth: Principal | null
  }
  interface FastifyContextConfig {
    /**
     * Bearer authentication of this route: `false` leaves it open, an object protects it (adding
     * `requiredScopes`). Default: protected when the plugin's `global` is true (its default).
     */
    bearerAuth?: RouteBearerAuthConfig | false
  }
}

/** Options of the {@link bearerAuth} plugin. */
export interface FastifyBearerAuthOptions extends BearerAuthOptions {
  /**
   * Whether every route of the registering context (and its children) needs a token. With
   * `false`, only routes whose `config.bearerAuth` is an object do. Default `true`.
   */
  global?: boolean
}

function onRequestHook(
  settings: BearerAuthSettings,
  verifyOptions: VerifyOptions | undefined,
): onRequestAsyncHookHandler {
  return async function bearerAuthOnRequest(request, reply) {
    // Fastify's own protocol and host, which follow its `trustProxy` option.
    const credentials = nodeCredentials(request.raw, settings, false, () => ({
      target: request.raw.url,
      origin: originOf(request.protocol, request.host),
    }))
    const outcome = await authenticate(settings, credentials, verifyOptions)
    if (outcome instanceof Challenge) {
      // A Buffer, because Fastify appends `; charset=utf-8` to the content type of string payloads.
      return reply.code(outcome.status).headers(outcome.headers).send(Buffer.from(outcome.body))
    }
    request.auth = outcome
  }
}

function routeVerifyOptions(
  settings: BearerAuthSettings,
  route: RouteOptions,
  routeConfig: RouteBearerAuthConfig | undefined,
): VerifyOptions | undefined {
  const where = `bearerAuth of route ${String(route.method)} ${route.url}`
  const own = verifyOptionsFor(routeConfig, where)?.requiredScopes
  if (own === undefined) return settings.verifyOptions
  const pluginScopes = settings.verifyOptions?.requiredScopes ?? []
  return verifyOptionsFor({ requiredScopes: [...new Set([...pluginScopes, ...own])] }, where)
}

const plugin: FastifyPluginCallback<FastifyBearerAuthOptions> = (fastify, options, done) => {
  let settings: BearerAuthSettings
  try {
    settings = resolveBearerAuthOptions(options)
  } catch (error) {
    // Thrown, it would leave `done` uncalled: `register` would fail only after Fastify's plugin
    // timeout, with "Plugin did not start in time" instead of the ConfigurationError.
    done(error as Error)
    return
  }
  const metadata = settings.resourceMetadata
  // RFC 9728 §3: the document lives at the root of the host; under a prefix it would be unreachable.
  if (metadata !== undefined && fastify.prefix !== '') {
    done(
      new ConfigurationError(
        `bearer auth: resourceMetadata is served at the root of the host; register the plugin outside the prefix "${fastify.prefix}"`,
      ),
    )
    return
  }
  const global = options.global ?? true
  fastify.decorateRequest('auth', null)
  // Each protected route gets its own hook when it is declared, so a route's scopes are checked
  // at start-up and no request pays for reading route config.
  fastify.addHook('onRoute', (route) => {
    const routeConfig = route.config?.bearerAuth
    if (routeConfig === false || (routeConfig === undefined && !global)) return
    const hook = onRequestHook(settings, routeVerifyOptions(settings, route, routeConfig))
    const existing = route.onRequest === undefined ? [] : [route.onRequest].flat()
    route.onRequest = [hook, ...existing]
  })
  if (metadata !== undefined) {
    for (const url of metadata.paths) {
      // Fastify answers HEAD from the GET route itself (exposeHeadRoutes).
      fastify.get(url, { config: { bearerAuth: false } }, (_request, reply) =>
        reply.code(200).headers(metadata.headers).send(Buffer.from(metadata.body)),
      )
    }
  }
  done()
}

/**
 * The Fastify plugin. Register it before the routes it protects; like `fastify-plugin` it is not
 * encapsulated, so it protects the routes of the context that registers it and of its children.
 * A refused request is answered 400/401/403/503 from an `onRequest` hook, before any body is read;
 * an unexpected (non-`BearerError`) failure goes to Fastify's error handler.
 *
 * With `resourceMetadata`, the plugin adds open `GET` routes for the RFC 9728 document (the
 * §3.1 path and the bare well-known path); register it outside any prefix, since the document
 * belongs at the root of the host.
 *
 * @throws {ConfigurationError} invalid plugin options (also `resourceMetadata` under a prefix) or route `config.bearerAuth.requiredScopes`.
 */
export const bearerAuth: FastifyPluginCallback<FastifyBearerAuthOptions> = Object.assign(plugin, {
  [Symbol.for('skip-override')]: true,
  [Symbol.for('fastify.display-name')]: '@oauth-m2m/verifier/fastify',
  [Symbol.for('plugin-meta')]: { name: '@oauth-m2m/verifier/fastify', fastify: '5.x' },
})
