/**
 * Interop of the client's DPoP (RFC 9449) with a certified server no one here wrote: oidc-provider
 * 9, configured for the client_credentials grant with DPoP, JWT access tokens, and (in one suite)
 * server nonces required on every proof. The client must get a DPoP-bound token whose `cnf.jkt` is
 * its key's thumbprint, with every algorithm it offers, and go through the nonce dance — then send
 * the nonce at once on the next token request.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { clientSecretBasic, createTokenClient, type DpopProofAlg, type TokenClient } from '@oauth-m2m/client'
import { calculateJwkThumbprint, decodeJwt, exportJWK } from 'jose'
import Provider from 'oidc-provider'
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
