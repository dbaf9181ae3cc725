/**
 * Client assertions as common client libraries sign them by default. Their defaults, from each
 * library's source:
 *
 * - Python authlib (`authlib/oauth2/rfc7523/assertion.py`, `client_secret_jwt_sign` /
 *   `private_key_jwt_sign` → `sign_jwt_bearer_assertion`): `iss` = `sub` = client_id, `aud` = the
 *   token endpoint URL, `iat` = now, `exp` = `iat` + `expires_in` with `expires_in` defaulting to
 *   3600, `jti` = `generate_token(36)`; `alg` HS256 for client_secret_jwt and RS256 for
 *   private_key_jwt; no `nbf`, no `kid`.
 * - MSAL Node (`lib/msal-node/src/client/ClientAssertion.ts`, `createJwt`): `aud` = the authority's
 *   token endpoint, `exp` = now + 600, `iss` = `sub` = client_id, `nbf` = now, `jti` = a GUID, no
 *   `iat`; header `alg` RS256 with `x5t` (SHA-1 certificate thumbprint, base64url), or PS256 with
 *   `x5t#S256` for a SHA-256 thumbprint; no `kid`.
 * - oauth4webapi 3.8.8 (`build/index.js`, `clientAssertionPayload`): `aud` = the issuer
 *   identifier, `exp` = now + 60, `iat` = `nbf` = now, `jti` random, `iss` = `sub` = client_id;
 *   HS256 for `ClientSecretJwt`, the key's algorithm and `kid` for `PrivateKeyJwt`. Run here as
 *   the real library.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto'
import { JWT_BEARER_ASSERTION_TYPE } from '@oauth-m2m/core'
import { exportJWK, exportSPKI, type GenerateKeyPairResult, generateKeyPair, SignJWT } from 'jose'
import * as oauth from 'oauth4webapi'
import { beforeAll, describe, expect, it } from 'vitest'
import { expectOAuthError, postForm, startServer } from './test-server.js'

const HMAC_SECRET = 'a-client-secret-long-enough-for-hs256-0123456789abcdef'
let rsaKeys: GenerateKeyPairResult
let psKeys: GenerateKeyPairResult
let ecKeys: GenerateKeyPairResult

beforeAll(async () => {
  rsaKeys = await generateKeyPair('RS256', { extractable: true })
  psKeys = await generateKeyPair('PS256', { extractable: true })
  ecKeys = await generateKeyPair('ES256', { extractable: true })
})

async function interopServer(config: { assertionMaxLifetimeSec?: number } = {}) {
  const { url } = await startServer({
    ...config,
    clients: [
      {
        client_id: 'hs-client',
        client_secret: HMAC_SECRET,
        token_endpoint_auth_method: 'client_secret_jwt',
        scope: 'read',
      },
      {
        client_id: 'rsa-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [await exportJWK(rsaKeys.publicKey)] },
        scope: 'read',
      },
      {
        client_id: 'ps-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [await exportJWK(psKeys.publicKey)] },
        scope: 'read',
      },
      {
        client_id: 'ec-client',
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [{ ...(await exportJWK(ecKeys.publicKey)), kid: 'ec-1' }] },
        scope: 'read',
      },
    ],
  })
  return { issuer: url, tokenEndpoint: `${url}/token` }
}

function assertionForm(assertion: string): Record<string, string> {
  return {
    grant_type: 'client_credentials',
    client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
    client_assertion: assertion,
  }
}

/** authlib's default claims: aud = token endpoint, exp = iat + 3600, jti of 36 characters. */
function authlibAssertion(clientId: string, tokenEndpoint: string, alg: 'HS256' | 'RS256') {
  const iat = Math.floor(Date.now() / 1000)
  const key = alg === 'HS256' ? new TextEncoder().encode(HMAC_SECRET) : rsaKeys.privateKey
  return new SignJWT({ iss: clientId, aud: tokenEndpoint, sub: clientId, iat, exp: iat + 3600 })
    .setProtectedHeader({ alg })
    .setJti(randomBytes(27).toString('base64url'))
    .sign(key)
}

/** MSAL Node's default claims: aud = token endpoint, exp = now + 600, nbf = now, no iat, x5t header. */
async function msalAssertion(clientId: string, tokenEndpoint: string, thumbprint: 'sha1' | 'sha256') {
  const now = Math.floor(Date.now() / 1000)
  const keys = thumbprint === 'sha1' ? rsaKeys : psKeys
  // A stand-in for the certificate's thumbprint: the server selects the client's key without it.
  const spki = await exportSPKI(keys.publicKey)
  const digest = createHash(thumbprint).update(spki).digest('base64url')
  const header = thumbprint === 'sha1' ? { alg: 'RS256', x5t: digest } : { alg: 'PS256', 'x5t#S256': digest }
  return new SignJWT({ aud: tokenEndpoint, exp: now + 600, iss: clientId, sub: clientId, nbf: now })
    .setProtectedHeader(header)
    .setJti(randomUUID())
    .sign(keys.privateKey)
}

describe('client assertions signed with the defaults of common client libraries', () => {
  it("accepts authlib's client_secret_jwt assertion (aud = token endpoint, lives 3600 s)", async () => {
    const { tokenEndpoint } = await interopServer()
    const assertion = await authlibAssertion('hs-client', tokenEndpoint, 'HS256')
    const answer = await postForm(tokenEndpoint, assertionForm(assertion))
    expect(answer.status, answer.text).toBe(200)
  })

  it("accepts authlib's private_key_jwt assertion (RS256, aud = token endpoint, lives 3600 s)", async () => {
    const { tokenEndpoint } = await interopServer()
    const assertion = await authlibAssertion('rsa-client', tokenEndpoint, 'RS256')
    const answer = await postForm(tokenEndpoint, assertionForm(assertion))
    expect(answer.status, answer.text).toBe(200)
  })

  it.each([
    ['sha1', 'rsa-client'],
    ['sha256', 'ps-client'],
  ] as const)(
    "accepts MSAL Node's certificate assertion (%s thumbprint, lives 600 s, no iat)",
    async (thumbprint, clientId) => {
      const { tokenEndpoint } = await interopServer()
      const assertion = await msalAssertion(clientId, tokenEndpoint, thumbprint)
      const answer = await postForm(tokenEndpoint, assertionForm(assertion))
      expect(answer.status, answer.text).toBe(200)
    },
  )

  it.each([
    ['ClientSecretJwt', 'hs-client'],
    ['PrivateKeyJwt', 'ec-client'],
  ] as const)(
    'accepts oauth4webapi %s (aud = issuer, lives 60 s) as a real client',
    async (method, clientId) => {
      const { issuer } = await interopServer()
      const insecure = { [oauth.allowInsecureRequests]: true }
      const as = await oauth.processDiscoveryResponse(
        new URL(issuer),
        await oauth.discoveryRequest(new URL(issuer), { algorithm: 'oauth2', ...insecure }),
      )
      const client: oauth.Client = { client_id: clientId }
      const auth =
        method === 'ClientSecretJwt'
          ? oauth.ClientSecretJwt(HMAC_SECRET)
          : oauth.PrivateKeyJwt({ key: ecKeys.privateKey, kid: 'ec-1' })
      const response = await oauth.clientCredentialsGrantRequest(
        as,
        client,
        auth,
        new URLSearchParams({ scope: 'read' }),
        insecure,
      )
      const result = await oauth.processClientCredentialsResponse(as, client, response)
      expect(result.token_type).toBe('bearer')
      expect(result.access_token).toEqual(expect.any(String))
    },
  )

  it('still refuses an assertion living longer than one hour', async () => {
    const { tokenEndpoint } = await interopServer()
    const now = Math.floor(Date.now() / 1000)
    const assertion = await new SignJWT({ exp: now + 7200 })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer('hs-client')
      .setSubject('hs-client')
      .setAudience(tokenEndpoint)
      .setJti(randomUUID())
      .sign(new TextEncoder().encode(HMAC_SECRET))
    const answer = expectOAuthError(
      await postForm(tokenEndpoint, assertionForm(assertion)),
      401,
      'invalid_client',
    )
    expect(answer.json.error_description).toContain('too far in the future')
  })

  it('keeps assertionMaxLifetimeSec: a server set to 300 s refuses authlib’s default', async () => {
    const { tokenEndpoint } = await interopServer({ assertionMaxLifetimeSec: 300 })
    const assertion = await authlibAssertion('hs-client', tokenEndpoint, 'HS256')
    expectOAuthError(await postForm(tokenEndpoint, assertionForm(assertion)), 401, 'invalid_client')
  })

  it('still refuses a replayed authlib assertion after the longer lifetime', async () => {
    const { tokenEndpoint } = await interopServer()
    const form = assertionForm(await authlibAssertion('hs-client', tokenEndpoint, 'HS256'))
    expect((await postForm(tokenEndpoint, form)).status).toBe(200)
    const answer = expectOAuthError(await postForm(tokenEndpoint, form), 401, 'invalid_client')
    expect(answer.json.error_description).toContain('replay')
  })
})
