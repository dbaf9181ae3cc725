import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createVerifier, type VerifierOptions } from '@oauth-m2m/verifier'
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, type JSONWebKeySet, jwtVerify } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { adminPost, banner, runCli, stopAll, tokenRequest } from './cli-process.js'

const dirs: string[] = []

afterEach(async () => {
  await stopAll()
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
})

async function tempFile(content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'm2m-test-server-'))
  dirs.push(dir)
  const file = join(dir, 'config.json')
  await writeFile(file, content)
  return file
}

async function jwks(url: string): Promise<JSONWebKeySet> {
  return (await (await fetch(url)).json()) as JSONWebKeySet
}

/** `value` of a banner line that must be there. */
function line(values: ReadonlyMap<string, string>, name: string): string {
  const value = values.get(name)
  if (value === undefined) throw new Error(`the banner has no "${name}" line`)
  return value
}

describe('m2m-test-server', () => {
  it('prints the demo client and the verifier settings once, "listening on" last, and serves the demo client', async () => {
    const proc = runCli([])
    const { values, url, adminUrl, text } = await banner(proc)
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(text.endsWith(`listening on ${url}\n`)).toBe(true)
    expect(text.match(/listening on/g)).toHaveLength(1)
    expect(text.match(/demo client_secret/g)).toHaveLength(1)
    expect(line(values, 'issuer')).toBe(url)
    expect(line(values, 'token endpoint')).toBe(`${url}/token`)
    expect(line(values, 'demo client_id')).toBe('test-client')
    expect(line(values, 'demo scope')).toBe('read write')
    expect(adminUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/_admin$/)

    const answer = await tokenRequest(
      line(values, 'token endpoint'),
      line(values, 'demo client_id'),
      line(values, 'demo client_secret'),
    )
    expect(answer.status).toBe(200)
    const verifier = createVerifier(JSON.parse(line(values, 'verifier')) as VerifierOptions)
    const principal = await verifier.verify(answer.body.access_token as string)
    await verifier.close()
    expect(principal.clientId).toBe('test-client')
    expect(principal.scopes).toEqual(['read', 'write'])

    // The admin endpoint tells the same as the banner, as JSON.
    const info = (await (await fetch(adminUrl!)).json()) as Record<string, unknown>
    expect(info).toMatchObject({
      url,
      issuer: url,
      tokenEndpoint: `${url}/token`,
      demoClient: { clientId: 'test-client', clientSecret: line(values, 'demo client_secret') },
    })

    proc.child.kill('SIGTERM')
    expect(await proc.exit).toBe(0)
  })

  it('registers clients and mints shaped and invalid tokens over the admin endpoint', async () => {
    const proc = runCli(['--scope', 'orders:read orders:write'])
    const { values, adminUrl } = await banner(proc)
    expect(line(values, 'demo scope')).toBe('orders:read orders:write')
    const keys = createLocalJWKSet(await jwks(line(values, 'jwks_uri')))

    const registered = await adminPost(adminUrl!, '/clients', {
      client_id: 'billing-job',
      scope: 'billing:read',
    })
    expect(registered.status).toBe(201)
    expect(registered.body).toMatchObject({
      client_id: 'billing-job',
      scope: 'billing:read',
      token_endpoint_auth_method: 'client_secret_basic',
      token_endpoint: line(values, 'token endpoint'),
    })
    const secret = registered.body!.client_secret as string
    const answer = await tokenRequest(line(values, 'token endpoint'), 'billing-job', secret)
    expect(answer.status).toBe(200)
    expect(answer.body.scope).toBe('billing:read')

    const generated = await adminPost(adminUrl!, '/clients', {
      token_endpoint_auth_method: 'private_key_jwt',
    })
    expect(generated.status).toBe(201)
    expect(generated.body!.client_id).toMatch(/^client-/)
    expect(generated.body!.private_jwk).toMatchObject({ kty: 'EC', crv: 'P-256' })
    expect(generated.body!.client_secret).toBeUndefined()

    const shaped = await adminPost(adminUrl!, '/tokens', {
      clientId: 'billing-job',
      claims: { tenant: 't-42' },
      header: { typ: 'JWT' },
      expiresInSec: 60,
    })
    expect(shaped.status).toBe(200)
    expect(shaped.body!.token_type).toBe('Bearer')
    const { payload, protectedHeader } = await jwtVerify(shaped.body!.access_token as string, keys, {
      issuer: line(values, 'issuer'),
    })
    expect(payload).toMatchObject({ client_id: 'billing-job', scope: 'billing:read', tenant: 't-42' })
    expect((payload.exp as number) - (payload.iat as number)).toBe(60)
    expect(protectedHeader.typ).toBe('JWT')

    const expired = await adminPost(adminUrl!, '/invalid-tokens', { kind: 'expired', scope: 'orders:read' })
    expect(expired.status).toBe(200)
    const claims = decodeJwt(expired.body!.access_token as string)
    expect(claims.exp).toBeLessThan(Date.now() / 1000)
    expect(claims.scope).toBe('orders:read')
    const unknownKid = await adminPost(adminUrl!, '/invalid-tokens', { kind: 'unknown-kid' })
    const kid = decodeProtectedHeader(unknownKid.body!.access_token as string).kid
    expect((await jwks(line(values, 'jwks_uri'))).keys.map((k) => k.kid)).not.toContain(kid)
  })

  it('moves the clock, fails the next request and shows the request log over the admin endpoint', async () => {
    const proc = runCli([])
    const { values, adminUrl } = await banner(proc)
    const tokenEndpoint = line(values, 'token endpoint')
    const clientId = line(values, 'demo client_id')
    const secret = line(values, 'demo client_secret')

    const before = (await (await fetch(`${adminUrl}/clock`)).json()) as { nowMs: number }
    const moved = await adminPost(adminUrl!, '/clock', { advanceMs: 86_400_000 })
    expect(moved.status).toBe(200)
    expect(moved.body!.nowMs as number).toBeGreaterThanOrEqual(before.nowMs + 86_400_000)
    const minted = await adminPost(adminUrl!, '/tokens', {})
    expect(decodeJwt(minted.body!.access_token as string).iat).toBeGreaterThanOrEqual(
      Math.floor((before.nowMs + 86_400_000) / 1000),
    )
    const set = await adminPost(adminUrl!, '/clock', { nowMs: '2030-01-01T00:00:00Z' })
    expect(set.body!.nowMs as number).toBeGreaterThanOrEqual(Date.parse('2030-01-01T00:00:00Z'))

    expect(
      (await adminPost(adminUrl!, '/fail-next', { endpoint: 'token', status: 503, retryAfterSec: 7 })).status,
    ).toBe(204)
    const failed = await tokenRequest(tokenEndpoint, clientId, secret)
    expect(failed.status).toBe(503)
    expect(failed.body.error).toBe('temporarily_unavailable')
    expect((await tokenRequest(tokenEndpoint, clientId, secret)).status).toBe(200)

    expect((await adminPost(adminUrl!, '/outage', { endpoint: 'jwks' })).status).toBe(204)
    expect((await fetch(line(values, 'jwks_uri'))).status).toBe(503)
    expect((await adminPost(adminUrl!, '/restore', {})).status).toBe(204)
    expect((await fetch(line(values, 'jwks_uri'))).status).toBe(200)

    const taken = await adminPost(adminUrl!, '/requests/take', { endpoint: 'token' })
    const requests = taken.body!.requests as { clientId: string; status: number; authMethod: string }[]
    expect(requests.map((r) => [r.clientId, r.authMethod, r.status])).toEqual([
      [clientId, 'client_secret_basic', 503],
      [clientId, 'client_secret_basic', 200],
    ])
    expect(JSON.stringify(taken.body)).not.toContain(secret)
    const left = (await (await fetch(`${adminUrl}/requests`)).json()) as { requests: { endpoint: string }[] }
    expect(left.requests.map((r) => r.endpoint)).toEqual(['jwks', 'jwks'])
  })

  it('answers bad admin requests with a 4xx naming the problem, and keeps serving', async () => {
    const proc = runCli([])
    const { adminUrl } = await banner(proc)
    const post = (path: string, body: string, contentType = 'application/json') =>
      fetch(`${adminUrl}${path}`, { method: 'POST', headers: { 'content-type': contentType }, body })
    const cases: [Promise<Response>, number, string][] = [
      [post('/tokens', '{}', 'text/plain'), 415, 'content-type: application/json'],
      [post('/tokens', '{ nope'), 400, 'not valid JSON'],
      [post('/tokens', '[1]'), 400, 'JSON object'],
      [post('/tokens', '{"client_id":"x"}'), 400, 'unknown member'],
      [post('/tokens', '{"scope":42}'), 400, 'scope must be'],
      [post('/tokens', '{"scope":"admin"}'), 400, 'invalid_scope'],
      [post('/tokens', '{"expiresInSec":1.5}'), 400, 'expiresInSec'],
      [post('/tokens', '{"issuedAt":"yesterday"}'), 400, 'issuedAt'],
      [post('/invalid-tokens', '{"kind":"forged"}'), 400, 'kind must be one of'],
      [post('/clients', '{"client_id":"test-client"}'), 400, 'already registered'],
      [post('/clients', '{"token_endpoint_auth_method":"magic"}'), 400, 'token_endpoint_auth_method'],
      [post('/clock', '{"advanceMs":1,"nowMs":2}'), 400, 'exactly one'],
      [post('/clock', '{"advanceMs":"soon"}'), 400, 'advanceMs'],
      [post('/fail-next', '{"endpoint":"userinfo","status":500}'), 400, 'endpoint'],
      [post('/fail-next', '{"endpoint":"token","status":200}'), 400, 'status'],
      [post('/outage', '{}'), 400, 'endpoint is required'],
      [post('/requests/take', '{"endpoint":7}'), 400, 'endpoint'],
      [post('/nothing', '{}'), 404, 'no admin resource'],
      [fetch(`${adminUrl}/clients`), 405, 'use POST'],
      [post('/tokens', `{"claims":{"x":"${'a'.repeat(70_000)}"}}`), 413, 'larger than'],
    ]
    for (const [answer, status, says] of cases) {
      const res = await answer
      const body = await res.text()
      expect([res.status, body]).toEqual([status, expect.stringContaining(says)])
    }
    // A page in a browser reaching the port by a DNS name that resolves to loopback is refused.
    const rebound = await new Promise<number | undefined>((resolve, reject) => {
      const req = httpRequest(`${adminUrl}`, { headers: { host: 'attacker.example:80' } }, (res) => {
        res.resume()
        resolve(res.statusCode)
      })
      req.on('error', reject)
      req.end()
    })
    expect(rebound).toBe(403)
    expect((await fetch(adminUrl!)).status).toBe(200)
  })

  it('with --no-admin has no admin endpoint, and the server knows no /_admin path', async () => {
    const proc = runCli(['--no-admin'])
    const { url, adminUrl, text } = await banner(proc)
    expect(adminUrl).toBeUndefined()
    expect(text).not.toContain('admin on')
    const res = await fetch(`${url}/_admin/clients`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(res.status).toBe(404)
    proc.child.kill('SIGINT')
    expect(await proc.exit).toBe(0)
  })

  it.each([
    [['--nope'], "Unknown option '--nope'"],
    [['--port', 'eighty'], '--port must be an integer'],
    [['--host', '0.0.0.0'], '--host must be a loopback address'],
    [['--profile', 'google'], '--profile must be one of rfc9068, entra, auth0, okta, keycloak, cognito'],
    [['--admin', '--no-admin'], 'exclude each other'],
    [['--no-admin', '--admin-port', '9'], '--admin-port needs the admin endpoint'],
    [['--seed', ''], '--seed must not be empty'],
    [['--seed'], "Option '--seed <value>' argument missing"],
  ])('refuses %j with one line on stderr and exit code 2', async (args, says) => {
    const proc = runCli(args)
    expect(await proc.exit).toBe(2)
    expect(proc.stderr()).toMatch(/^m2m-test-server: [^\n]+\n$/)
    expect(proc.stderr()).toContain(says)
    expect(proc.stdout()).toBe('')
  })

  it('prints its usage with --help', async () => {
    const proc = runCli(['--help'])
    expect(await proc.exit).toBe(0)
    expect(proc.stdout()).toContain('Usage: m2m-test-server')
    expect(proc.stdout()).toContain('--seed S')
  })

  it('takes clients and profile settings from --config, the command line winning', async () => {
    const file = await tempFile(
      JSON.stringify({
        profile: { name: 'okta', authorizationServerId: 'aus1orders' },
        clients: [{ client_id: 'orders-job', scope: 'orders:read' }],
        defaultClient: { scope: 'from-the-file' },
        accessTokenLifetimeSec: 300,
      }),
    )
    const proc = runCli(['--config', file, '--scope', 'from-the-flag'])
    const { values, url, adminUrl } = await banner(proc)
    expect(line(values, 'profile')).toBe('okta')
    expect(line(values, 'issuer')).toBe(`${url}/oauth2/aus1orders`)
    expect(line(values, 'demo scope')).toBe('from-the-flag')
    const registered = await adminPost(adminUrl!, '/tokens', { clientId: 'orders-job' })
    const claims = decodeJwt(registered.body!.access_token as string)
    expect(claims.exp! - claims.iat!).toBe(300)
    expect(claims.scp).toEqual(['orders:read'])
  })

  it.each([
    ['{ nope', 'is not valid JSON'],
    ['[]', 'must hold a JSON object'],
    ['{"clients":[{"client_id":"a","token_endpoint_auth_method":"magic"}]}', 'token_endpoint_auth_method'],
  ])('refuses the config file %s with one line and exit code 1', async (content, says) => {
    const proc = runCli(['--config', await tempFile(content)])
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toMatch(/^m2m-test-server: [^\n]+\n$/)
    expect(proc.stderr()).toContain(says)
    expect(proc.stdout()).not.toContain('listening on')
  })

  it('under each provider profile, the printed token request gets a token the printed verifier settings accept', async () => {
    const profiles = ['entra', 'auth0', 'okta', 'keycloak', 'cognito'] as const
    const runs = profiles.map((profile) => ({ profile, proc: runCli(['--profile', profile, '--no-admin']) }))
    for (const { profile, proc } of runs) {
      const { values, url } = await banner(proc)
      expect(line(values, 'profile')).toBe(profile)
      // The provider's paths, on this server's own origin: a suite outside Node reaches them.
      expect(line(values, 'issuer').startsWith(url)).toBe(true)
      const params = Object.fromEntries(new URLSearchParams(values.get('token request') ?? ''))
      const { grant_type: _grant, ...extra } = params
      const answer = await tokenRequest(
        line(values, 'token endpoint'),
        line(values, 'demo client_id'),
        line(values, 'demo client_secret'),
        extra,
      )
      expect([profile, answer.status]).toEqual([profile, 200])
      const settings = JSON.parse(line(values, 'verifier')) as VerifierOptions
      expect(settings.issuer).toBe(line(values, 'issuer'))
      const verifier = createVerifier(settings)
      const principal = await verifier.verify(answer.body.access_token as string)
      await verifier.close()
      expect([profile, principal.clientId]).toEqual([profile, line(values, 'demo client_id')])
    }
  }, 120_000)
})
