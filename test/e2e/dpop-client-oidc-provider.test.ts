/**
 * Interop of the client's DPoP (RFC 9449) with a certified server no one here wrote: oidc-provider
 * 9, configured for the client_credentials grant with DPoP, JWT access tokens, and (in one suite)
 * server nonces required on every proof. The client must get a DPoP-bound token whose `cnf.jkt` is
 * its key's thumbprint, with every algorithm it offers, and go through the nonce dance — then send
 * the nonce at once on the next token request. Then the token is used: `client.fetch` and the
 * interceptor call a resource server whose proofs `@oauth-m2m/verifier` checks (binding, `ath`,
 * replay, resource nonces), over real loopback HTTP.
 */
import { createHash, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { clientSecretBasic, createTokenClient, type DpopProofAlg, type TokenClient } from '@oauth-m2m/client'
import { createVerifier, UseDpopNonceError, type Verifier } from '@oauth-m2m/verifier'
import { calculateJwkThumbprint, decodeJwt, exportJWK, SignJWT } from 'jose'
import Provider from 'oidc-provider'
import { Agent, request } from 'undici'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'

const CLIENT_ID = 'dpop-service'
const CLIENT_SECRET = 'dpop-service-secret-0123456789abcdef'
const RESOURCE = 'https://api.example.test/'
const ALGS: DpopProofAlg[] = ['ES256', 'EdDSA', 'PS256', 'RS256']

/** What oidc-provider was asked and answered on /token. */
interface TokenExchange {
  proofNonce: string | undefined
  status: number
  nonceAnswered: string | undefined
}

interface RunningProvider {
  issuer: string
  exchanges: TokenExchange[]
  close(): Promise<void>
}

/** The `nonce` claim of a proof, read without checking it (oidc-provider checks it). */
function proofNonce(req: IncomingMessage): string | undefined {
  const proof = req.headers.dpop
  return typeof proof === 'string' ? (decodeJwt(proof).nonce as string | undefined) : undefined
}

async function startProvider({ requireNonce }: { requireNonce: boolean }): Promise<RunningProvider> {
  const server: Server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        client_secret: CLIENT_SECRET,
        token_endpoint_auth_method: 'client_secret_basic',
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        scope: 'read',
        // RFC 9449 §5.2: this client must always use DPoP.
        dpop_bound_access_tokens: true,
      },
    ],
    jwks: {
      keys: [
        {
          ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }),
          alg: 'ES256',
          use: 'sig',
        },
      ],
    },
    scopes: ['read'],
    ttl: { ClientCredentials: 300 },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'EdDSA', 'PS256', 'RS256'] },
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => requireNonce },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => RESOURCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'read',
          audience: RESOURCE,
          accessTokenTTL: 300,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'ES256' } },
        }),
      },
    },
  })
  const callback = provider.callback()
  const exchanges: TokenExchange[] = []
  server.on('request', (req, res) => {
    if (req.method === 'POST' && req.url === '/token') {
      const exchange: TokenExchange = { proofNonce: proofNonce(req), status: 0, nonceAnswered: undefined }
      exchanges.push(exchange)
      res.on('finish', () => {
        exchange.status = res.statusCode
        const nonce = res.getHeader('dpop-nonce')
        exchange.nonceAnswered = typeof nonce === 'string' ? nonce : undefined
      })
    }
    callback(req, res)
  })
  return {
    issuer,
    exchanges,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

const clients: TokenClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

/** A DPoP client of this provider with its own key pair for `alg`, and that key's thumbprint. */
async function dpopClient(issuer: string, alg: DpopProofAlg) {
  const key =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : alg === 'EdDSA'
        ? generateKeyPairSync('ed25519')
        : generateKeyPairSync('rsa', { modulusLength: 2048 })
  const client = createTokenClient({
    issuer,
    clientId: CLIENT_ID,
    auth: clientSecretBasic(CLIENT_SECRET),
    scope: 'read',
    resource: RESOURCE,
    dpop: { key, alg },
    retry: false,
  })
  clients.push(client)
  return { client, jkt: await calculateJwkThumbprint(await exportJWK(key.publicKey)) }
}

describe('the DPoP client against oidc-provider', () => {
  let op: RunningProvider
  beforeAll(async () => {
    op = await startProvider({ requireNonce: false })
  })
  afterAll(() => op.close())

  it.each(ALGS)(
    'gets a DPoP-bound token whose cnf.jkt is its key thumbprint, signing with %s',
    async (alg) => {
      const { client, jkt } = await dpopClient(op.issuer, alg)
      const token = await client.getToken()
      expect(token.tokenType).toBe('DPoP')
      const claims = decodeJwt(token.accessToken)
      expect(claims.cnf).toEqual({ jkt })
      expect(claims.client_id).toBe(CLIENT_ID)
      expect(claims.aud).toBe(RESOURCE)
    },
  )

  it('with a generated key too (dpop: true)', async () => {
    const client = createTokenClient({
      issuer: op.issuer,
      clientId: CLIENT_ID,
      auth: clientSecretBasic(CLIENT_SECRET),
      scope: 'read',
      resource: RESOURCE,
      dpop: true,
      retry: false,
    })
    clients.push(client)
    const token = await client.getToken()
    expect(token.tokenType).toBe('DPoP')
    expect((decodeJwt(token.accessToken).cnf as { jkt: string }).jkt).toMatch(/^[A-Za-z0-9_-]{43}$/)
  })

  it('is refused a token without DPoP by a client registered with dpop_bound_access_tokens', async () => {
    const plain = createTokenClient({
      issuer: op.issuer,
      clientId: CLIENT_ID,
      auth: clientSecretBasic(CLIENT_SECRET),
      resource: RESOURCE,
      retry: false,
    })
    clients.push(plain)
    // The check above means something: this provider binds only when it is shown a proof.
    await expect(plain.getToken()).rejects.toMatchObject({ code: 'ERR_OAUTH_RESPONSE', status: 400 })
  })
})

describe('the DPoP client against oidc-provider requiring nonces', () => {
  let op: RunningProvider
  beforeAll(async () => {
    op = await startProvider({ requireNonce: true })
  })
  afterAll(() => op.close())

  it('goes through the nonce dance, then sends the remembered nonce at once', async () => {
    const { client, jkt } = await dpopClient(op.issuer, 'ES256')
    const first = await client.getToken()
    expect(first.tokenType).toBe('DPoP')
    expect(decodeJwt(first.accessToken).cnf).toEqual({ jkt })
    // 400 use_dpop_nonce with a DPoP-Nonce, then the same request with a proof carrying it.
    expect(op.exchanges.map((e) => e.status)).toEqual([400, 200])
    expect(op.exchanges[0]!.proofNonce).toBeUndefined()
    expect(op.exchanges[0]!.nonceAnswered).toBeTypeOf('string')
    expect(op.exchanges[1]!.proofNonce).toBe(op.exchanges[0]!.nonceAnswered)

    client.invalidate()
    const second = await client.getToken()
    expect(second.accessToken).not.toBe(first.accessToken)
    expect(decodeJwt(second.accessToken).cnf).toEqual({ jkt })
    // No extra round trip: the first request of the next token carries the nonce already.
    expect(op.exchanges.map((e) => e.status)).toEqual([400, 200, 200])
    const latest = op.exchanges[1]!.nonceAnswered ?? op.exchanges[0]!.nonceAnswered
    expect(op.exchanges[2]!.proofNonce).toBe(latest)
  })
})

/** One request the resource server received. */
interface ApiCall {
  method: string
  status: number
  proofNonce: string | undefined
}

/**
 * A resource server that answers per RFC 9449 §7.1 and §9, with the verifier judging scheme, token
 * and proof (it requires DPoP-bound tokens and resource nonces).
 */
async function startApi(verifier: Verifier) {
  const calls: ApiCall[] = []
  const server = createServer((req, res) => {
    const body: Buffer[] = []
    req.on('data', (chunk: Buffer) => body.push(chunk))
    req.on('end', async () => {
      const call: ApiCall = { method: req.method ?? '', status: 0, proofNonce: proofNonce(req) }
      calls.push(call)
      const answer = (status: number, headers: Record<string, string>, json: unknown) => {
        call.status = status
        res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(json))
      }
      const [scheme, token] = (req.headers.authorization ?? '').split(' ')
      if ((scheme !== 'DPoP' && scheme !== 'Bearer') || !token) {
        return answer(401, { 'www-authenticate': 'DPoP algs="ES256"' }, {})
      }
      try {
        // The verifier judges the scheme too: a DPoP-bound token sent as Bearer is refused (§7.2).
        const dpop =
          scheme === 'DPoP'
            ? {
                proof: typeof req.headers.dpop === 'string' ? req.headers.dpop : undefined,
                method: req.method ?? '',
                url: `${api}${req.url}`,
              }
            : undefined
        const principal = await verifier.verify(token, dpop ? { dpop } : {})
        answer(200, {}, { clientId: principal.clientId, body: Buffer.concat(body).toString() })
      } catch (error) {
        if (error instanceof UseDpopNonceError) {
          return answer(
            401,
            { 'www-authenticate': 'DPoP error="use_dpop_nonce"', 'dpop-nonce': error.nonce ?? '' },
            {},
          )
        }
        const code = (error as { error?: string }).error ?? 'invalid_token'
        answer(401, { 'www-authenticate': `DPoP error="${code}"` }, {})
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const api = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    api,
    calls,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

describe('the DPoP client calling a resource server that @oauth-m2m/verifier protects', () => {
  let op: RunningProvider
  let verifier: Verifier
  let rs: Awaited<ReturnType<typeof startApi>>
  beforeAll(async () => {
    op = await startProvider({ requireNonce: false })
    verifier = createVerifier({
      issuer: op.issuer,
      audience: RESOURCE,
      dpop: { mode: 'required', nonce: true },
    })
    rs = await startApi(verifier)
  })
  afterAll(async () => {
    await rs.close()
    await verifier.close()
    await op.close()
  })
  afterEach(() => {
    rs.calls.length = 0
  })

  function apiClient() {
    const client = createTokenClient({
      issuer: op.issuer,
      clientId: CLIENT_ID,
      auth: clientSecretBasic(CLIENT_SECRET),
      scope: 'read',
      resource: RESOURCE,
      origins: [rs.api],
      dpop: true,
      retry: false,
    })
    clients.push(client)
    return client
  }

  it('client.fetch gets through after the resource nonce dance, and sends the nonce at once next time', async () => {
    const client = apiClient()
    const first = await client.fetch(`${rs.api}/orders?page=1`, { method: 'POST', body: 'order-1' })
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({ clientId: CLIENT_ID, body: 'order-1' })
    expect(rs.calls.map((c) => c.status)).toEqual([401, 200])
    expect(rs.calls[1]!.proofNonce).toBeTypeOf('string')

    const second = await client.fetch(`${rs.api}/orders`)
    expect(second.status).toBe(200)
    await second.arrayBuffer()
    // A fresh proof (the verifier refuses a replayed jti) with the remembered nonce: one round trip.
    expect(rs.calls.map((c) => c.status)).toEqual([401, 200, 200])
    expect(rs.calls[2]!.proofNonce).toBe(rs.calls[1]!.proofNonce)
  })

  it('the interceptor does the same through undici', async () => {
    const client = apiClient()
    const agent = new Agent().compose(client.interceptor())
    try {
      for (const path of ['/a', '/b']) {
        const res = await request(`${rs.api}${path}`, { dispatcher: agent, method: 'PUT', body: 'x' })
        expect(res.statusCode).toBe(200)
        await res.body.text()
      }
    } finally {
      await agent.close()
    }
    expect(rs.calls.map((c) => [c.method, c.status])).toEqual([
      ['PUT', 401],
      ['PUT', 200],
      ['PUT', 200],
    ])
  })

  it('a stolen token is refused without the key: with a proof of another key, and as Bearer', async () => {
    const { accessToken } = await apiClient().getToken()
    const thief = generateKeyPairSync('ec', { namedCurve: 'P-256' })
    const jwk = await exportJWK(thief.publicKey)
    const ath = createHash('sha256').update(accessToken).digest('base64url')
    const thiefProof = (nonce?: string) =>
      new SignJWT({ htm: 'GET', htu: `${rs.api}/orders`, ath, ...(nonce ? { nonce } : {}) })
        .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk })
        .setJti(randomUUID())
        .setIssuedAt()
        .sign(thief.privateKey)
    const send = async (headers: Record<string, string>) => {
      const res = await request(`${rs.api}/orders`, { headers })
      await res.body.text()
      return res
    }
    // The thief does everything right but hold the key: a current nonce, the token's ath.
    const asked = await send({ authorization: `DPoP ${accessToken}`, dpop: await thiefProof() })
    const nonce = asked.headers['dpop-nonce'] as string
    expect(nonce).toBeTypeOf('string')
    const stolen = await send({ authorization: `DPoP ${accessToken}`, dpop: await thiefProof(nonce) })
    expect(stolen.statusCode).toBe(401)
    expect(stolen.headers['www-authenticate']).toMatch(/error="invalid_dpop_proof"|error="invalid_token"/)
    const asBearer = await send({ authorization: `Bearer ${accessToken}` })
    expect(asBearer.statusCode).toBe(401)
    expect(asBearer.headers['www-authenticate']).toMatch(/error="invalid_token"/)
    expect(rs.calls.map((c) => c.status)).toEqual([401, 401, 401])
  })
})
