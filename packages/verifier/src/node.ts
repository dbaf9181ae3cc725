/**
 * Bearer-token middleware for plain `node:http` (and anything connect-style):
 * `(req, res, next?)`, with the verified {@link Principal} on `req.auth`.
 *
 * ```ts
 * import { createServer } from 'node:http'
 * import { bearerAuth, type AuthenticatedRequest } from '@oauth-m2m/verifier/node'
 *
 * const auth = bearerAuth({ verifier, requiredScopes: ['read:things'], realm: 'things-api' })
 * createServer((req, res) =>
 *   auth(req, res, () => res.end(`hello ${(req as AuthenticatedRequest).auth.clientId}`)),
 * ).listen(8080)
 * ```
 *
 * @module node
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { authenticate, presentedOrChallenge } from './middleware/authenticate.js'
import { Challenge, challengeFor, isBearerError } from './middleware/challenge.js'
import {
  nodeCredentials,
  writeChallenge,
  writeResourceMetadata,
  writeServerError,
} from './middleware/node-http.js'
import {
  type BearerAuthOptions,
  perCallVerifyOptions,
  resolveBearerAuthOptions,
} from './middleware/options.js'
import { isResourceMetadataRequest } from './middleware/resource-metadata.js'
import type { Principal } from './types.js'

export type { TrustedProxyOptions } from './middleware/client-certificate.js'
export type { BearerAuthOptions } from './middleware/options.js'
export type { ResourceMetadataOptions } from './middleware/resource-metadata.js'
export type { Principal } from './types.js'

/** A request that passed the middleware: `auth` holds who called. */
export type AuthenticatedRequest<R extends IncomingMessage = IncomingMessage> = R & { auth: Principal }

/** Per-call options of {@link NodeBearerAuth.authenticate}. */
export interface AuthenticateOptions {
  /**
   * Scopes this request needs, instead of the middleware's `requiredScopes`. (Formerly `scopes`,
   * which is now refused with a `ConfigurationError`.)
   */
  requiredScopes?: readonly string[]
}

/** The middleware returned by {@link bearerAuth}. */
export interface NodeBearerAuth {
  /**
   * Checks the request. When it passes, sets `req.auth` and calls `next()`; otherwise answers
   * 400/401/403/503 itself and does not call `next`. With `resourceMetadata`, a `GET` or `HEAD` of
   * the metadata document is answered with it (no token needed) and `next` is not called. An unexpected (non-`BearerError`) failure goes
   * to `next(error)`, or, without `next`, is answered with a bare 500 `server_error`. The promise
   * settles when all that is done and rejects only when `next` itself throws. (Without `next`,
   * prefer {@link NodeBearerAuth.authenticate}, which says whether the request passed.)
   */
  (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void): Promise<void>
  /**
   * The same check for `async` handlers: resolves to the Principal (also set on `req.auth`), or to
   * `undefined` once the refusal (or the RFC 9728 metadata document) has been sent. Rejects only on
   * an unexpected failure.
   */
  authenticate(
    req: IncomingMessage,
    res: ServerResponse,
    options?: AuthenticateOptions,
  ): Promise<Principal | undefined>
}

/** An unexpected (non-`BearerError`) failure: to `next(error)`, or a bare 500 without `next`. */
function unexpected(
  res: ServerResponse,
  next: ((error?: unknown) => void) | undefined,
  error: unknown,
): Promise<void> {
  if (next) next(error)
  else writeServerError(res)
  return Promise.resolve()
}

/**
 * Creates node:http middleware that accepts a request only with a valid
 * `Authorization: Bearer <token>` (RFC 6750 §2.1) — or `Authorization: DPoP <token>` with its
 * `DPoP` proof (RFC 9449 §7), when the verifier accepts DPoP — that carries the required scopes.
 * The URL the proof must name is rebuilt from the socket and the `Host` header, or from
 * `publicBaseUrl`.
 *
 * @throws {ConfigurationError} invalid options.
 */
export function bearerAuth(options: BearerAuthOptions): NodeBearerAuth {
  const settings = resolveBearerAuthOptions(options)
  const { verifier } = settings

  // The hot path: one synchronous read of the header, then a single promise from verify().
  const middleware = (
    req: IncomingMessage,
    res: ServerResponse,
    next?: (error?: unknown) => void,
  ): Promise<void> => {
    if (isResourceMetadataRequest(settings.resourceMetadata, req.method, req.url)) {
      writeResourceMetadata(res, settings.resourceMetadata)
      return Promise.resolve()
    }
    let presented: ReturnType<typeof presentedOrChallenge>
    try {
      presented = presentedOrChallenge(settings, nodeCredentials(req, settings), settings.verifyOptions)
    } catch (error) {
      return unexpected(res, next, error)
    }
    if (presented instanceof Challenge) {
      writeChallenge(res, presented)
      return Promise.resolve()
    }
    const { scheme } = presented
    return verifier.verify(presented.token, presented.verifyOptions).then(
      (principal) => {
        ;(req as AuthenticatedRequest).auth = principal
        next?.()
      },
      (error: unknown) => {
        if (isBearerError(error)) writeChallenge(res, challengeFor(error, settings, scheme))
        else if (next) next(error)
        else writeServerError(res)
      },
    )
  }

  return Object.assign(middleware, {
    async authenticate(req: IncomingMessage, res: ServerResponse, callOptions?: AuthenticateOptions) {
      const verifyOptions = perCallVerifyOptions(settings, callOptions, 'authenticate')
      if (isResourceMetadataRequest(settings.resourceMetadata, req.method, req.url)) {
        writeResourceMetadata(res, settings.resourceMetadata)
        return undefined
      }
      const outcome = await authenticate(settings, nodeCredentials(req, settings), verifyOptions)
      if (outcome instanceof Challenge) {
        writeChallenge(res, outcome)
        return undefined
      }
      ;(req as AuthenticatedRequest).auth = outcome
      return outcome
    },
  })
}
