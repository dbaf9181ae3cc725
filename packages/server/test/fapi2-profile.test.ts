/**
 * `profile: 'fapi2'`: each rule of the FAPI 2.0 Security Profile (final) the server applies to the
 * client credentials grant, refused where it must refuse and accepted where it must accept.
 */
import { generateKeyPairSync, type KeyObject, randomUUID } from 'node:crypto'
import { ConfigurationError, JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { type AuthorizationServerConfig, createAuthorizationServer } from '@oauth-m2m/server'
import {
  type CryptoKey,
  decodeJwt,
  decodeProtectedHeader,
  exportJWK,
  type GenerateKeyPairResult,
  generateKeyPair,
  type JWK,
  SignJWT,
} from 'jose'
import { beforeAll, describe, expect, it } from 'vitest'
import { type ProofKey, proof, proofKey } from './dpop-proofs.js'
import { jwkWithX5c, testPki } from './mtls-support.js'
import { expectOAuthError, postForm, send, startServer } from './test-server.js'

let es: GenerateKeyPairResult
// A node KeyObject: jose signs both RS256 and PS256 with it (a WebCrypto key is tied to one).
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 })
let dpopKey: ProofKey
let esJwk: JWK
let rsaJwk: JWK

beforeAll(async () => {
  es = await generateKeyPair('ES256', { extractable: true })
  dpopKey = await proofKey('ES256')
  esJwk = { ...(await exportJWK(es.publicKey)), kid: 'es' }
  rsaJwk = { ...(rsa.publicKey.export({ format: 'jwk' }) as JWK), kid: 'rsa' }
})

const JWT_CLIENT = 'fapi-client'

function jwtClient(extra: Record<string, unknown> = {}) {
  return {
    client_id: JWT_CLIENT,
    token_endpoint_auth_method: 'private_key_jwt' as const,
    jwks: { keys: [esJwk, rsaJwk] },
    scope: 'read',
    ...extra,
  }
}

function fapiConfig(extra: Partial<AuthorizationServerConfig> = {}): AuthorizationServerConfig {
  return { profile: 'fapi2', clients: [jwtClient()], ...extra }
}

interface AssertionShape {
  aud: string | string[]
  alg?: string
  key?: CryptoKey | KeyObject | Uint8Array
  kid?: string
  iatSec?: number
}

function assertion({ aud, alg = 'ES256', key, kid, iatSec }: AssertionShape): Promise<string> {
  const signingKey = key ?? (alg === 'ES256' ? es.privateKey : rsa.privateKey)
  const header = { alg, typ: 'client-authentication+jwt', kid: kid ?? (alg === 'ES256' ? 'es' : 'rsa') }
  const nowSec = Math.floor(Date.now() / 1000)
  return new SignJWT({ jti: randomUUID() })
    .setProtectedHeader(header)
    .setIssuer(JWT_CLIENT)
    .setSubject(JWT_CLIENT)
    .setAudience(aud)
    .setIssuedAt(iatSec ?? nowSec)
    .setExpirationTime(nowSec + 60)
    .sign(signingKey)
}

/** A token request of the private_key_jwt client, with a DPoP proof unless `dpop` is false. */
async function tokenRequest(url: string, shape: Partial<AssertionShape> = {}, dpop = true) {
  const headers: Record<string, string> = dpop ? { dpop: await proof(dpopKey, { htu: `${url}/token` }) } : {}
  return postForm(
    `${url}/token`,
    {
      grant_type: 'client_credentials',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: await assertion({ aud: url, ...shape }),
    },
    headers,
  )
}

async function refusedConfig(config: AuthorizationServerConfig): Promise<string> {
  const error = await createAuthorizationServer(config).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ConfigurationError)
  return (error as Error).message
}

describe('client authentication (§5.3.2.1 items 3 and 6)', () => {
  it('refuses a shared-secret or public client at configuration load, naming it', async () => {
    for (const [client, method] of [
      [{ client_id: 'legacy', client_secret: 's3cret-value-0123456789' }, 'client_secret_basic'],
      [
        { client_id: 'legacy', client_secret: 's3cret', token_endpoint_auth_method: 'client_secret_post' },
        'client_secret_post',
      ],
      [
        {
          client_id: 'legacy',
          client_secret: 'an-hmac-secret-that-is-long-enough-0123456789',
          token_endpoint_auth_method: 'client_secret_jwt',
        },
        'client_secret_jwt',
      ],
      [{ client_id: 'legacy', token_endpoint_auth_method: 'none' }, 'none'],
    ] as const) {
      const message = await refusedConfig(fapiConfig({ clients: [jwtClient(), client] }))
      expect(message).toContain('clients[1].token_endpoint_auth_method')
      expect(message).toContain('"legacy"')
      expect(message).toContain(method)
      expect(message).toContain('private_key_jwt, tls_client_auth, self_signed_tls_client_auth')
      expect(message).not.toContain('s3cret')
    }
  })

  it('refuses a shared-secret client at registerClient, and takes a private_key_jwt one', async () => {
    const server = await createAuthorizationServer(fapiConfig())
    expect(() =>
      server.registerClient({ client_id: 'late', client_secret: 'late-secret-0123456789abcdef' }),
    ).toThrow(ConfigurationError)
    expect(() =>
      server.registerClient({ client_id: 'late', client_secret: 'late-secret-0123456789abcdef' }),
    ).toThrow(/token_endpoint_auth_method \(client "late"\)/)
    expect(server.getClient('late')).toBeUndefined()
    const shown = server.registerClient({ ...jwtClient(), client_id: 'late-jwt' })
    expect(shown.token_endpoint_auth_method).toBe('private_key_jwt')
  })

  it('refuses the same client on updateClient when it turns to a secret', async () => {
    const server = await createAuthorizationServer(fapiConfig())
    expect(() =>
      server.updateClient({ client_id: JWT_CLIENT, client_secret: 'a-secret-0123456789abcdef' }),
    ).toThrow(ConfigurationError)
    expect(server.getClient(JWT_CLIENT)?.token_endpoint_auth_method).toBe('private_key_jwt')
  })

  it('takes tls_client_auth and self_signed_tls_client_auth clients with mtls, and advertises them', async () => {
    const pki = await testPki()
    const selfSigned = await pki.client('CN=self-signed')
    const { url } = await startServer(
      fapiConfig({
        clients: [
          jwtClient(),
          {
            client_id: 'ca-issued',
            token_endpoint_auth_method: 'tls_client_auth',
            tls_client_auth_subject_dn: 'CN=ca-issued',
          },
          {
            client_id: 'self-signed',
            token_endpoint_auth_method: 'self_signed_tls_client_auth',
            jwks: { keys: [jwkWithX5c(selfSigned)] },
          },
        ],
        mtls: { ca: pki.ca.pem },
      }),
    )
    const { json } = await send(`${url}/.well-known/oauth-authorization-server`)
    for (const endpoint of ['token', 'introspection', 'revocation']) {
      expect(json[`${endpoint}_endpoint_auth_methods_supported`]).toEqual([
        'private_key_jwt',
        'tls_client_auth',
        'self_signed_tls_client_auth',
      ])
    }
    expect(json.tls_client_certificate_bound_access_tokens).toBe(true)
  })

  it('still refuses a secret client when mtls is configured', async () => {
    const pki = await testPki()
    const message = await refusedConfig(
      fapiConfig({
        clients: [jwtClient(), { client_id: 'legacy', client_secret: 'legacy-secret-0123456789' }],
        mtls: { ca: pki.ca.pem },
      }),
    )
    expect(message).toContain('clients[1].token_endpoint_auth_method (client "legacy")')
  })

  it('without a profile, secret clients still load', async () => {
    await expect(
      createAuthorizationServer({ clients: [{ client_id: 'legacy', client_secret: 'x'.repeat(32) }] }),
    ).resolves.toBeDefined()
  })
})

describe('algorithms and keys (§5.4.1)', () => {
  it('refuses an RS256 or HS256 client assertion, accepts PS256 and ES256', async () => {
    const { url } = await startServer(fapiConfig())
    const rs = await tokenRequest(url, { alg: 'RS256', kid: 'rsa' })
    expectOAuthError(rs, 401, 'invalid_client')
    expect(rs.json.error_description).toBe('the client assertion alg is not allowed for this client')
    const hs = await tokenRequest(url, {
      alg: 'HS256',
      key: new TextEncoder().encode('k'.repeat(32)),
      kid: 'es',
    })
    expectOAuthError(hs, 401, 'invalid_client')
    expect((await tokenRequest(url, { alg: 'PS256', kid: 'rsa' })).status).toBe(200)
    expect((await tokenRequest(url, { alg: 'ES256' })).status).toBe(200)
  })

  it('refuses a registered token_endpoint_auth_signing_alg outside PS256, ES256, EdDSA', async () => {
    const message = await refusedConfig(
      fapiConfig({ clients: [jwtClient({ token_endpoint_auth_signing_alg: 'RS256' })] }),
    )
    expect(message).toContain('clients[0].token_endpoint_auth_signing_alg')
    expect(message).toContain(`"${JWT_CLIENT}"`)
  })

  it('refuses a 1024-bit RSA client key at load, naming the client and the key', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const weak = publicKey.export({ format: 'jwk' })
    const message = await refusedConfig(
      fapiConfig({ clients: [jwtClient({ jwks: { keys: [esJwk, weak] } })] }),
    )
    expect(message).toContain('clients[0].jwks.keys[1]')
    expect(message).toContain(`"${JWT_CLIENT}"`)
    expect(message).toContain('1024-bit RSA key')
  })

  it('refuses an Ed448 client key', async () => {
    const { publicKey } = generateKeyPairSync('ed448')
    const message = await refusedConfig(
      fapiConfig({ clients: [jwtClient({ jwks: { keys: [publicKey.export({ format: 'jwk' })] } })] }),
    )
    expect(message).toContain('Ed448')
  })

  it('refuses RS256 server signing, by signing.alg, by a key alg, or an RSA key without alg', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
    const rsaPrivate = privateKey.export({ format: 'jwk' }) as JWK
    expect(await refusedConfig(fapiConfig({ signing: { alg: 'RS256' } }))).toContain('signing.alg')
    expect(
      await refusedConfig(fapiConfig({ signing: { keys: [{ ...rsaPrivate, alg: 'RS256' }] } })),
    ).toContain('signing.keys[0].alg')
    expect(await refusedConfig(fapiConfig({ signing: { keys: [rsaPrivate] } }))).toContain(
      'give it "alg": "PS256"',
    )
    await expect(
      createAuthorizationServer(fapiConfig({ signing: { keys: [{ ...rsaPrivate, alg: 'PS256' }] } })),
    ).resolves.toBeDefined()
    await expect(createAuthorizationServer(fapiConfig({ signing: { alg: 'PS256' } }))).resolves.toBeDefined()
  })

  it('signs access tokens with an allowed algorithm, and refuses to rotate to RS256', async () => {
    const { server, url } = await startServer(fapiConfig({ signing: { alg: 'EdDSA' } }))
    const answer = await tokenRequest(url)
    expect(answer.status).toBe(200)
    expect(decodeProtectedHeader(answer.json.access_token).alg).toBe('EdDSA')
    await expect(server.rotateSigningKey('RS256')).rejects.toThrow(ConfigurationError)
    await expect(server.rotateSigningKey('PS256')).resolves.toMatchObject({ alg: 'PS256' })
  })

  it('refuses DPoP algorithms outside the profile when configured, and narrows the default', async () => {
    const message = await refusedConfig(fapiConfig({ dpop: { algorithms: ['ES256', 'RS256'] } }))
    expect(message).toContain('dpop.algorithms[1]')
    const { url } = await startServer(fapiConfig())
    const rsKey = await proofKey('RS256')
    const answer = await postForm(
      `${url}/token`,
      {
        grant_type: 'client_credentials',
        client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
        client_assertion: await assertion({ aud: url }),
      },
      { dpop: await proof(rsKey, { htu: `${url}/token` }) },
    )
    expectOAuthError(answer, 400, 'invalid_dpop_proof')
  })
})

describe('the assertion audience (§5.3.2.1 item 8)', () => {
  it('accepts the issuer as one string', async () => {
    const { url } = await startServer(fapiConfig())
    expect((await tokenRequest(url, { aud: url })).status).toBe(200)
  })

  it('refuses the token endpoint as aud', async () => {
    const { url } = await startServer(fapiConfig())
    expectOAuthError(await tokenRequest(url, { aud: `${url}/token` }), 401, 'invalid_client')
  })

  it('refuses an array, even [issuer]', async () => {
    const { url } = await startServer(fapiConfig())
    const answer = await tokenRequest(url, { aud: [url] })
    expectOAuthError(answer, 401, 'invalid_client')
    expect(answer.json.error_description).toContain('as a single string')
  })

  it('cannot be relaxed with strictAssertionAudience: false', async () => {
    expect(await refusedConfig(fapiConfig({ strictAssertionAudience: false }))).toContain(
      'strictAssertionAudience cannot be false',
    )
  })
})

describe('clock offsets (§5.3.2.1 item 13)', () => {
  it('refuses an assertion whose iat is ahead by more than the tolerance, accepts 10 s ahead', async () => {
    const { url } = await startServer(fapiConfig({ clockToleranceSec: 30 }))
    const nowSec = Math.floor(Date.now() / 1000)
    const ahead = await tokenRequest(url, { iatSec: nowSec + 45 })
    expectOAuthError(ahead, 401, 'invalid_client')
    expect(ahead.json.error_description).toBe('the client assertion iat claim is in the future')
    expect((await tokenRequest(url, { iatSec: nowSec + 10 })).status).toBe(200)
  })

  it('keeps the tolerances between 10 and 60 seconds', async () => {
    expect(await refusedConfig(fapiConfig({ clockToleranceSec: 5 }))).toContain('clockToleranceSec')
    expect(await refusedConfig(fapiConfig({ clockToleranceSec: 120 }))).toContain('clockToleranceSec')
    expect(await refusedConfig(fapiConfig({ dpop: { iatWindowSec: 300 } }))).toContain('dpop.iatWindowSec')
  })
})

describe('sender-constrained tokens (§5.3.2.1 items 4 and 5)', () => {
  it('refuses a token request without a DPoP proof (no Bearer token is issued)', async () => {
    const { url } = await startServer(fapiConfig())
    const answer = await tokenRequest(url, {}, false)
    expectOAuthError(answer, 400, 'invalid_dpop_proof')
  })

  it('refuses dpop: "allowed" no less than "required" (a proofless request is refused)', async () => {
    const { url } = await startServer(fapiConfig({ dpop: 'allowed' }))
    expectOAuthError(await tokenRequest(url, {}, false), 400, 'invalid_dpop_proof')
  })

  it('refuses dpop: "disabled" without mtls: nothing could bind the tokens', async () => {
    expect(await refusedConfig(fapiConfig({ dpop: 'disabled' }))).toContain('dpop cannot be "disabled"')
  })

  it('issues a DPoP-bound token to a private_key_jwt client with a proof', async () => {
    const { url } = await startServer(fapiConfig())
    const answer = await tokenRequest(url)
    expect(answer.status).toBe(200)
    expect(answer.json.token_type).toBe('DPoP')
    expect(decodeJwt(answer.json.access_token).cnf).toEqual({ jkt: dpopKey.jkt })
  })
})

describe('metadata (advertises only what the profile allows)', () => {
  it('lists the profile methods and algorithms only', async () => {
    const { url } = await startServer(fapiConfig())
    const { json } = await send(`${url}/.well-known/oauth-authorization-server`)
    for (const endpoint of ['token', 'introspection', 'revocation']) {
      expect(json[`${endpoint}_endpoint_auth_methods_supported`]).toEqual(['private_key_jwt'])
      expect(json[`${endpoint}_endpoint_auth_signing_alg_values_supported`]).toEqual([
        'PS256',
        'ES256',
        'EdDSA',
      ])
    }
    expect(json.dpop_signing_alg_values_supported).toEqual(['ES256', 'EdDSA', 'Ed25519', 'PS256'])
  })

  it('keeps the full lists without the profile', async () => {
    const { url } = await startServer({ clients: [jwtClient()] })
    const { json } = await send(`${url}/.well-known/oauth-authorization-server`)
    expect(json.token_endpoint_auth_methods_supported).toContain('client_secret_basic')
    expect(json.token_endpoint_auth_signing_alg_values_supported).toContain('RS256')
  })
})

describe('the profile option', () => {
  it('names only fapi2', async () => {
    expect(await refusedConfig({ clients: [], profile: 'fapi1' as 'fapi2' })).toContain(
      'profile must be "fapi2"',
    )
  })
})
