/**
 * Bearer-token middleware for Express 4 and 5, with the verified {@link Principal} on `req.auth`
 * (typed through a module augmentation of `Express.Request`).
 *
 * ```ts
 * import express from 'express'
 * import { bearerAuth } from '@oauth-m2m/verifier/express'
 *
 * const app = express()
 * app.use(bearerAuth({ verifier, realm: 'things-api' }))
 * app.get('/things', bearerAuth({ verifier, requiredScopes: ['read:things'] }), (req, res) => {
 *   res.json({ caller: req.auth?.clientId })
 * })
 * ```
 *
 * @module express
 */
import type { IncomingMessage } from 'node:http'
import type { Request, RequestHandler } from 'express'
import { authenticate } from './middleware/authenticate.js'
import { Challenge } from './middleware/challenge.js'
import {
  type NodeRequestUrl,
  nodeCredentials,
  writeChallenge,
  writeResourceMetadata,
} from './middleware/node-http.js'
import { type BearerAuthOptions, resolveBearerAuthOptions } from './middleware/options.js'
import { originOf } from './middleware/request-url.js'
import { isResourceMetadataRequest } from './middleware/resource-metadata.js'
import type { Principal } from './types.js'

export type { TrustedProxyOptions } from './middleware/client-certificate.js'
export type { BearerAuthOptions } from './middleware/options.js'
export type { ResourceMetadataOptions } from './middleware/resource-metadata.js'
export type { Principal } from './types.js'

declare global {
  namespace Express {
    interface Request {
      /** Who called, set by `bearerAuth()` from `@oauth-m2m/verifier/express` once the token passed. */
      auth?: Principal
    }
  }
}

const FORM = 'application/x-www-form-urlencoded'

/** Whether a form body that a body parser already read names `access_token` (RFC 6750 §2.2). */
function formBodyHasToken(req: IncomingMessage & { body?: unknown }): boolean {
  const body = req.body
  if (body === null || typeof body !== 'object') return false
  if (!req.headers['content-type']?.toLowerCase().startsWith(FORM)) return false
  return Object.hasOwn(body, 'access_token')
}

/**
 * The URL as Express gives it: it strips a mount path from req.url, and the client named the
 * whole path; req.protocol follows the app's `trust proxy`; the host is the Host header (Express
 * 4's req.host drops the port).
 */
function expressUrl(req: Request): NodeRequestUrl {
  return { target: req.originalUrl, origin: originOf(req.protocol, req.headers.host) }
}

/**
 * Creates Express middleware that lets a request through only with a valid
 * `Authorization: Bearer <token>` (RFC 6750 §2.1) — or `Authorization: DPoP <token>` with its
 * `DPoP` proof (RFC 9449 §7), when the verifier accepts DPoP — carrying the required scopes. It sets
 * `req.auth` and calls `next()`, or answers 400/401/403/503 itself. An unexpected
 * (non-`BearerError`) failure goes to `next(error)`, i.e. to the app's error handler.
 *
 * A token in the query string, or in a form body already parsed by `express.urlencoded()`, is
 * refused with 400 `invalid_request`; the middleware never reads the body itself.
 *
 * With `resourceMetadata`, it answers `GET` of the RFC 9728 document itself wherever it sees that
 * path: mount it app-wide (`app.use(bearerAuth(…))`) or on the path
 * (`app.get('/.well-known/oauth-protected-resource', auth)`). It matches `req.originalUrl`, so a
 * mount path never hides the well-known path.
 *
 * @throws {ConfigurationError} invalid options.
 */
export function bearerAuth(options: BearerAuthOptions): RequestHandler {
  const settings = resolveBearerAuthOptions(options)
  return (req, res, next) => {
    if (isResourceMetadataRequest(settings.resourceMetadata, req.method, req.originalUrl)) {
      writeResourceMetadata(res, settings.resourceMetadata)
      return
    }
    const credentials = nodeCredentials(req, settings, formBodyHasToken(req), expressUrl)
    authenticate(settings, credentials, settings.verifyOptions).then((outcome) => {
      if (outcome instanceof Challenge) {
        writeChallenge(res, outcome)
        return
      }
      req.auth = outcome
      next()
    }, next)
  }
}
