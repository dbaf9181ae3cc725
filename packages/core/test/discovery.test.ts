import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  clearDiscoveryCache,
  DiscoveryError,
  discover,
  HttpError,
  NetworkError,
  TimeoutError,
} from '@oauth-m2m/core'
import { Agent, MockAgent } from 'undici'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

type Responder = (req: IncomingMessage, res: ServerResponse) => void

/** A real authorization server stand-in on loopback: answers per path and counts what it was asked. */
interface MetadataServer {
  origin: string
  routes: Map<string, Responder>
  hits: string[]
  close(): Promise<void>
}

async function startServer(): Promise<MetadataServer> {
  const routes = new Map<string, Responder>()
  const hits: string[] = []
  const server = createServer((req, res) => {
    hits.push(req.url ?? '')
    const route = routes.get(req.url ?? '')
    if (route) route(req, res)
    else res.writeHead(404, { 'content-type': 'text/html' }).end('<h1>Not Found</h1>')
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    routes,
    hits,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}

function json(body: unknown, status = 200): Responder {
  return (_req, res) =>
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
}

function metadataFor(issuer: string, extra: Record<string, unknown> = {}) {
  return {
    issuer,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/jwks`,
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'private_key_jwt'],
    ...extra,
  }
}

const RFC8414 = '/.well-known/oauth-authorization-server'
const OIDC = '/.well-known/openid-configuration'

let as: MetadataServer

beforeEach(async () => {
  clearDiscoveryCache()
  as = await startServer()
})

afterEach(async () => {
  vi.useRealTimers()
  await as.close()
})

async function failure(promise: Promise<unknown>): Promise<DiscoveryError> {
  const err = await promise.catch((e: unknown) => e)
  expect(err).toBeInstanceOf(DiscoveryError)
  expect((err as DiscoveryError).code).toBe('ERR_DISCOVERY')
  return err as DiscoveryError
}

describe('discover: where the metadata is looked for', () => {
  it('reads RFC 8414 metadata of an issuer without a path', async () => {
    const issuer = as.origin
    as.routes.set(RFC8414, json(metadataFor(issuer)))
    const metadata = await discover(issuer)
    expect(metadata).toEqual(metadataFor(issuer))
    expect(as.hits).toEqual([RFC8414])
  })

  it('inserts the well-known segment between host and path for an issuer with a path', async () => {
    const issuer = `${as.origin}/tenants/acme`
    as.routes.set(`${RFC8414}/tenants/acme`, json(metadataFor(issuer)))
    expect((await discover(issuer)).token_endpoint).toBe(`${issuer}/token`)
    expect(as.hits).toEqual([`${RFC8414}/tenants/acme`])
  })

  it('drops a terminating slash of the issuer path when forming the URL, but not when comparing', async () => {
    const issuer = `${as.origin}/tenant/`
    as.routes.set(`${RFC8414}/tenant`, json(metadataFor(issuer)))
    expect((await discover(issuer)).issuer).toBe(issuer)
  })

  it('falls back to OpenID Connect discovery, appended to the issuer, on a 404', async () => {
    const issuer = `${as.origin}/realms/main`
    as.routes.set(`/realms/main${OIDC}`, json(metadataFor(issuer)))
    expect((await discover(issuer)).jwks_uri).toBe(`${issuer}/jwks`)
    expect(as.hits).toEqual([`${RFC8414}/realms/main`, `/realms/main${OIDC}`])
  })

  it('falls back on a JSON 404 as well', async () => {
    const issuer = as.origin
    as.routes.set(RFC8414, json({ error: 'not_found' }, 404))
    as.routes.set(OIDC, json(metadataFor(issuer)))
    expect((await discover(issuer)).issuer).toBe(issuer)
  })

  it('does not fall back on other failures', async () => {
    as.routes.set(RFC8414, json({}, 500))
    as.routes.set(OIDC, json(metadataFor(as.origin)))
    const err = await failure(discover(as.origin))
    expect(err.message).toMatch(/answered 500/)
    expect(as.hits).toEqual([RFC8414])
  })

  it('fails when neither document exists', async () => {
    const err = await failure(discover(as.origin))
    expect(err.message).toMatch(/404/)
  })
})

describe('discover: what is accepted', () => {
  it('refuses a document for another issuer (RFC 8414 §3.3)', async () => {
    as.routes.set(RFC8414, json(metadataFor('https://evil.example')))
    const err = await failure(discover(as.origin))
    expect(err.message).toContain('"https://evil.example"')
  })

  it('compares the issuer exactly, trailing slash included', async () => {
    as.routes.set(RFC8414, json(metadataFor(`${as.origin}/`)))
    await failure(discover(as.origin))
  })

  it.each([
    ['a missing issuer', { issuer: undefined }],
    ['an http endpoint on a public host', { token_endpoint: 'http://as.example/token' }],
    ['a relative jwks_uri', { jwks_uri: '/jwks' }],
    ['a non-string endpoint', { introspection_endpoint: 42 }],
    ['a javascript: endpoint', { revocation_endpoint: 'javascript:alert(1)' }],
    ['an http mTLS alias', { mtls_endpoint_aliases: { token_endpoint: 'http://mtls.example/token' } }],
    ['scopes that are not a list', { scopes_supported: 'read write' }],
    ['a list holding a non-string', { grant_types_supported: ['client_credentials', 7] }],
  ])('refuses metadata with %s', async (_case, extra) => {
    as.routes.set(RFC8414, json(metadataFor(as.origin, extra)))
    await failure(discover(as.origin))
  })

  it('accepts https endpoints and http ones on loopback hosts, and keeps unknown members', async () => {
    const extra = {
      token_endpoint: 'https://as.example/token',
      introspection_endpoint: 'http://localhost:8080/introspect',
      revocation_endpoint: 'http://[::1]:8080/revoke',
      mtls_endpoint_aliases: { token_endpoint: 'https://mtls.as.example/token' },
      request_parameter_supported: true,
      vendor_extension: { nested: ['x'] },
    }
    as.routes.set(RFC8414, json(metadataFor(as.origin, extra)))
    const metadata = await discover(as.origin)
    expect(metadata).toMatchObject(extra)
  })

  it.each([
    ['a JSON array', json([metadataFor('x')])],
    ['JSON null', json(null)],
    [
      'HTML',
      (_req: IncomingMessage, res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'text/html' }).end('<p>hi</p>'),
    ],
    [
      'malformed JSON',
      (_req: IncomingMessage, res: ServerResponse) =>
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"issuer":'),
    ],
  ])('refuses %s as the document', async (_case, responder) => {
    as.routes.set(RFC8414, responder)
    await failure(discover(as.origin))
  })

  it('wraps a non-JSON answer in DiscoveryError with the HttpError as cause', async () => {
    as.routes.set(RFC8414, (_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('nope'))
    expect((await failure(discover(as.origin))).cause).toBeInstanceOf(HttpError)
  })

  it.each([
    ['not a URL', 'as.example'],
    ['plain http on a public host', 'http://as.example'],
    ['a query', 'https://as.example/?tenant=1'],
    ['a fragment', 'https://as.example/#x'],
    ['another scheme', 'ftp://as.example'],
  ])('refuses an issuer that is %s without a request', async (_case, issuer) => {
    await failure(discover(issuer))
    expect(as.hits).toEqual([])
  })

  it('accepts http endpoints on any host with allowInsecureHttp, and never serves that answer to a strict caller', async () => {
    const extra = { token_endpoint: 'http://auth-server.compose:8080/token' }
    as.routes.set(RFC8414, json(metadataFor(as.origin, extra)))
    expect(await discover(as.origin, { allowInsecureHttp: true })).toMatchObject(extra)
    // The same document, asked for under the strict rule, is fetched and judged again.
    await failure(discover(as.origin))
    expect(as.hits).toHaveLength(2)
  })

  it('takes an http issuer on any host with allowInsecureHttp (docker-compose), and still refuses other schemes', async () => {
    const issuer = 'http://auth-server.compose:8080'
    // undici's MockAgent stands in for the compose host: nothing leaves the process.
    const agent = new MockAgent()
    agent.disableNetConnect()
    agent
      .get(issuer)
      .intercept({ path: '/.well-known/oauth-authorization-server' })
      .reply(200, metadataFor(issuer, { token_endpoint: `${issuer}/token` }), {
        headers: { 'content-type': 'application/json' },
      })
    try {
      await failure(discover(issuer, { dispatcher: agent }))
      expect((await discover(issuer, { dispatcher: agent, allowInsecureHttp: true })).token_endpoint).toBe(
        `${issuer}/token`,
      )
      await expect(discover('ftp://as.example', { allowInsecureHttp: true })).rejects.toThrow(
        /an http\(s\) URL/,
      )
    } finally {
      await agent.close()
    }
  })

  it('returns frozen metadata, so one caller cannot change what the next gets', async () => {
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    const metadata = await discover(as.origin)
    expect(Object.isFrozen(metadata)).toBe(true)
    expect(Object.isFrozen(metadata.grant_types_supported)).toBe(true)
  })
})

describe('discover: transport failures', () => {
  it('times out a hanging server with DiscoveryError caused by TimeoutError', async () => {
    as.routes.set(RFC8414, () => {})
    const err = await failure(discover(as.origin, { timeoutMs: 100 }))
    expect(err.cause).toBeInstanceOf(TimeoutError)
  })

  it('reports a refused connection as DiscoveryError caused by NetworkError', async () => {
    const issuer = as.origin
    await as.close()
    const err = await failure(discover(issuer))
    expect(err.cause).toBeInstanceOf(NetworkError)
    as = await startServer()
  })

  it('rejects with the signal’s reason when the caller aborts, without failing other callers', async () => {
    let answer!: () => void
    as.routes.set(RFC8414, (_req, res) => {
      answer = () => json(metadataFor(as.origin))(_req, res)
    })
    const controller = new AbortController()
    const aborted = discover(as.origin, { signal: controller.signal })
    const patient = discover(as.origin)
    await vi.waitFor(() => expect(as.hits).toHaveLength(1))
    const reason = new Error('caller gave up')
    controller.abort(reason)
    await expect(aborted).rejects.toBe(reason)
    answer()
    expect((await patient).issuer).toBe(as.origin)
  })

  it('rejects at once with an already aborted signal', async () => {
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    await expect(discover(as.origin, { signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow(
      'early',
    )
    expect(as.hits).toEqual([])
  })
})

describe('discover: caching and single flight', () => {
  it('shares one fetch among concurrent callers', async () => {
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    const results = await Promise.all(Array.from({ length: 100 }, () => discover(as.origin)))
    expect(as.hits).toHaveLength(1)
    expect(new Set(results).size).toBe(1)
  })

  it('shares a failure among concurrent callers and does not cache it', async () => {
    as.routes.set(RFC8414, json({}, 503))
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => discover(as.origin)))
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof DiscoveryError)).toBe(true)
    expect(as.hits).toHaveLength(1)
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    expect((await discover(as.origin)).issuer).toBe(as.origin)
    expect(as.hits).toHaveLength(2)
  })

  it('reuses a success for cacheTtlMs by the clock it is given (now), then fetches again', async () => {
    let clockMs = 1_000_000
    const now = () => clockMs
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    await discover(as.origin, { cacheTtlMs: 60_000, now })
    clockMs += 60_000
    await discover(as.origin, { now })
    expect(as.hits).toHaveLength(1)
    clockMs += 1
    await discover(as.origin, { now })
    expect(as.hits).toHaveLength(2)
  })

  it('keeps a success for an hour by default', async () => {
    let clockMs = 1_000_000
    const now = () => clockMs
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    await discover(as.origin, { now })
    clockMs += 60 * 60_000
    await discover(as.origin, { now })
    expect(as.hits).toHaveLength(1)
    clockMs += 1
    await discover(as.origin, { now })
    expect(as.hits).toHaveLength(2)
  })

  it('does not cache with cacheTtlMs 0', async () => {
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    await discover(as.origin, { cacheTtlMs: 0 })
    await discover(as.origin, { cacheTtlMs: 0 })
    expect(as.hits).toHaveLength(2)
  })

  it('caches per issuer and per dispatcher', async () => {
    const tenant = `${as.origin}/t1`
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    as.routes.set(`${RFC8414}/t1`, json(metadataFor(tenant)))
    const agent = new Agent()
    try {
      await discover(as.origin)
      await discover(tenant)
      await discover(as.origin, { dispatcher: agent })
      await discover(as.origin, { dispatcher: agent })
      await discover(as.origin)
      expect(as.hits).toEqual([RFC8414, `${RFC8414}/t1`, RFC8414])
    } finally {
      await agent.close()
    }
  })

  it('forgets everything on clearDiscoveryCache()', async () => {
    as.routes.set(RFC8414, json(metadataFor(as.origin)))
    await discover(as.origin)
    clearDiscoveryCache()
    await discover(as.origin)
    expect(as.hits).toHaveLength(2)
  })
})
