/**
 * The outside world of a README quickstart, in process: the reference authorization server
 * answers for the quickstart's issuer, and each API named accepts only a token that server issued
 * for it. Both are msw handlers behind undici's global dispatcher, which the client and the
 * verifier use when given none, so the quickstart runs unchanged with no port and no network.
 */

import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { createVerifier } from '@oauth-m2m/verifier'
import { HttpResponse, http } from 'msw'
import { getGlobalDispatcher, setGlobalDispatcher } from 'undici'

/** What the world is made of. */
export interface WorldOptions {
  issuer: string
  clientId: string
  clientSecret: string
  scope: string
  /** Resource indicators the server knows; those in `apis` also answer requests. */
  resources: string[]
  /** Origins of APIs that answer 200 to a token the server issued for them, 401 otherwise. */
  apis: string[]
}

/** One request an API answered. */
export interface ApiCall {
  url: string
  status: number
  clientId?: string
}

/** A running world. */
export interface World {
  /** `METHOD path` of each request the authorization server answered. */
  serverRequests: string[]
  apiCalls: ApiCall[]
  /** An access token from the server's token endpoint. */
  issueToken(options: { scope: string; resource: string }): Promise<string>
  close(): Promise<void>
}

export async function startWorld(options: WorldOptions): Promise<World> {
  const server = await createAuthorizationServer({
    issuer: options.issuer,
    clients: [{ client_id: options.clientId, client_secret: options.clientSecret, scope: options.scope }],
    resources: options.resources.map((resource) => ({ resource })),
  })
  const serverRequests: string[] = []
  const apiCalls: ApiCall[] = []
  const apis = options.apis.map((origin) => ({
    origin,
    verifier: createVerifier({ issuer: options.issuer, audience: origin }),
  }))

  const dispatcher = createMswDispatcher([
    http.all(`${options.issuer}/*`, async ({ request }) => {
      serverRequests.push(`${request.method} ${new URL(request.url).pathname}`)
      return server.handle(request)
    }),
    ...apis.map(({ origin, verifier }) =>
      http.all(`${origin}/*`, async ({ request }) => {
        const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''
        try {
          const principal = await verifier.verify(token)
          apiCalls.push({ url: request.url, status: 200, clientId: principal.clientId })
          return HttpResponse.json({ ok: true })
        } catch {
          apiCalls.push({ url: request.url, status: 401 })
          return new HttpResponse(null, { status: 401 })
        }
      }),
    ),
  ])
  const previous = getGlobalDispatcher()
  setGlobalDispatcher(dispatcher)

  return {
    serverRequests,
    apiCalls,
    async issueToken({ scope, resource }) {
      const basic = Buffer.from(`${options.clientId}:${options.clientSecret}`).toString('base64')
      const response = await server.handle(
        new Request(`${options.issuer}/token`, {
          method: 'POST',
          headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource }),
        }),
      )
      const body = (await response.json()) as { access_token?: string }
      if (!body.access_token) throw new Error(`the token endpoint answered ${response.status}`)
      return body.access_token
    },
    async close() {
      setGlobalDispatcher(previous)
      await Promise.all(apis.map(({ verifier }) => verifier.close()))
      await dispatcher.close()
      await server.close()
    },
  }
}

/** Runs the quickstart module named on the command line, then prints what happened as one line. */
export async function runQuickstart(
  report: () => Record<string, unknown> | Promise<Record<string, unknown>>,
): Promise<void> {
  const quickstart = process.argv[2]
  if (!quickstart) throw new Error('usage: node run-<package>.js <quickstart.js>')
  await import(pathToFileURL(resolve(quickstart)).href)
  process.stdout.write(`QUICKSTART ${JSON.stringify({ completed: true, ...(await report()) })}\n`)
}
