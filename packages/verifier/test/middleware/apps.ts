/**
 * The same small app built with each framework, for the shared specification in `conformance.ts`:
 * `GET /things` protected with the options given, `GET /admin` protected the framework's own way
 * for a route that also needs `admin`; both answer `200 {"clientId", "scopes"}` from wherever that
 * framework puts the Principal. With `resourceMetadata`, each app lets the middleware see the
 * RFC 9728 well-known paths the way a user of that framework would. Each app listens on 127.0.0.1
 * port 0.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type BearerAuthOptions, bearerAuth as expressBearerAuth } from '@oauth-m2m/verifier/express'
import { bearerAuth as fastifyBearerAuth } from '@oauth-m2m/verifier/fastify'
import { bearerAuth as fetchBearerAuth } from '@oauth-m2m/verifier/fetch'
import { type BearerAuthEnv, bearerAuth as honoBearerAuth } from '@oauth-m2m/verifier/hono'
import { type AuthenticatedRequest, bearerAuth as nodeBearerAuth } from '@oauth-m2m/verifier/node'
import express, { type ErrorRequestHandler } from 'express'
import Fastify, { type FastifyInstance } from 'fastify'
import { Hono } from 'hono'
import type { AppUnderTest } from './conformance.js'
import { serveFetch } from './serve-fetch.js'

/** The parts of the Principal the specification checks. */
export function principalSummary(principal: { clientId: string; scopes: string[] } | null | undefined) {
  return principal
    ? { clientId: principal.clientId, scopes: principal.scopes }
    : { clientId: null, scopes: null }
}

/** Starts a node:http server with `handler`. */
export function listenNode(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<AppUnderTest> {
  const server = createServer(handler)
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      })
    })
  })
}

function sendSummary(req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/json' })
  res.end(JSON.stringify(principalSummary((req as AuthenticatedRequest).auth)))
}

/** node:http: the middleware with `next` for /things, `authenticate()` with route scopes for /admin. */
export function startNodeApp(options: BearerAuthOptions): Promise<AppUnderTest> {
  const auth = nodeBearerAuth(options)
  return listenNode((req, res) => {
    if (req.url?.startsWith('/admin')) {
      void auth.authenticate(req, res, { requiredScopes: ['read', 'admin'] }).then((principal) => {
        if (principal) sendSummary(req, res)
      })
      return
    }
    void auth(req, res, () => sendSummary(req, res))
  })
}

/**
 * Express: route middleware; the middleware mounted on `/.well-known` (Express strips the mount
 * path from `req.url`) for the RFC 9728 document; a form body parser; an error handler that names
 * the error it got.
 */
export function startExpressApp(options: BearerAuthOptions): Promise<AppUnderTest> {
  const app = express()
  app.use('/.well-known', expressBearerAuth(options))
  app.use(express.urlencoded({ extended: false }))
  app.get('/things', expressBearerAuth(options), (req, res) => {
    res.json(principalSummary(req.auth))
  })
  app.get('/admin', expressBearerAuth({ ...options, requiredScopes: ['read', 'admin'] }), (req, res) => {
    res.json(principalSummary(req.auth))
  })
  app.post('/things', expressBearerAuth(options), (req, res) => {
    res.json(principalSummary(req.auth))
  })
  const onError: ErrorRequestHandler = (error: Error, _req, res, _next) => {
    res.status(500).json({ handledByApp: error.message })
  }
  app.use(onError)
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo
      resolve({
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise<void>((done) => server.close(() => done())),
      })
    })
  })
}

/** Starts a Fastify instance. */
export async function listenFastify(app: FastifyInstance): Promise<AppUnderTest> {
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  return { url, close: () => app.close() }
}

/** Fastify: the plugin for the whole app, `config.bearerAuth` for /admin and an open /health. */
export async function startFastifyApp(options: BearerAuthOptions): Promise<AppUnderTest> {
  const app = Fastify()
  await app.register(fastifyBearerAuth, options)
  app.get('/things', async (request) => principalSummary(request.auth))
  app.get('/admin', { config: { bearerAuth: { requiredScopes: ['admin'] } } }, async (request) =>
    principalSummary(request.auth),
  )
  app.get('/health', { config: { bearerAuth: false } }, async (request) => ({
    open: true,
    auth: request.auth,
  }))
  return listenFastify(app)
}

/**
 * Hono on @hono/node-server: route middleware, the middleware on `/.well-known/*` for the RFC 9728
 * document, and an onError that names the error it got.
 */
export function startHonoApp(options: BearerAuthOptions): Promise<AppUnderTest> {
  const app = new Hono<BearerAuthEnv>()
  app.use('/.well-known/*', honoBearerAuth(options))
  app.get('/things', honoBearerAuth(options), (c) => c.json(principalSummary(c.get('auth'))))
  app.get('/admin', honoBearerAuth({ ...options, requiredScopes: ['read', 'admin'] }), (c) =>
    c.json(principalSummary(c.get('auth'))),
  )
  app.onError((error, c) => c.json({ handledByApp: error.message }, 500))
  return serveFetch(app.fetch)
}

/** A fetch-style route handler (Next.js, workers, Bun, Deno) served over real HTTP. */
export function startFetchApp(options: BearerAuthOptions): Promise<AppUnderTest> {
  const auth = fetchBearerAuth(options)
  return serveFetch(async (request) => {
    const admin = new URL(request.url).pathname === '/admin'
    const principal = await auth(request, admin ? { requiredScopes: ['read', 'admin'] } : undefined)
    if (principal instanceof Response) return principal
    return Response.json(principalSummary(principal))
  })
}

/** Every adapter's app, by name. */
export const APPS = {
  'node:http': startNodeApp,
  express: startExpressApp,
  fastify: startFastifyApp,
  hono: startHonoApp,
  fetch: startFetchApp,
} as const
