/**
 * entraId(): v2.0 and v1.0 app-only access tokens as Microsoft documents them (access token
 * claims reference and its example tokens), verified with keys served at the
 * tenant's documented discovery/keys URLs.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { createVerifier, type EntraIdPresetOptions, entraId, InvalidTokenError } from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeKey, type TestKey } from '../support/keys.js'
import {
  type Claims,
  type KeyServer,
  keyServer,
  nowSec,
  providerConformance,
  sign,
  verdict,
} from './provider-harness.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const OTHER_TENANT = 'fa15d692-e9c7-4460-a743-29f2956fd429'
const API_CLIENT_ID = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const CALLER = '535fb089-9ff3-47b6-9bfb-4f1264799865'
const V2_ISSUER = `https://login.microsoftonline.com/${TENANT}/v2.0`
const V1_ISSUER = `https://sts.windows.net/${TENANT}/`
const V2_KEYS = `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`
const V1_KEYS = `https://login.microsoftonline.com/${TENANT}/discovery/keys`

/** Entra's JWKs carry kty, use, kid, x5t (and x5c, issuer), and no alg. */
function entraJwk(issuer: string) {
  return ({ kty, n, e, kid }: { kty?: string; n?: string; e?: string; kid?: string }) => ({
    kty,
    use: 'sig',
    kid,
    x5t: kid,
    n,
    e,
    issuer,
  })
}

function v2Claims(now: number): Claims {
  return {
    aud: API_CLIENT_ID,
    iss: V2_ISSUER,
    iat: now,
    nbf: now,
    exp: now + 3900,
    aio: 'E2ZgYJgWf5Y=',
    azp: CALLER,
    azpacr: '1',
    idtyp: 'app',
    oid: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
    sub: '690222be-ff1a-4d56-abd1-7e4f7d38e474',
    roles: ['Orders.Read.All'],
    rh: '0.AAAAv4j5cvGGr0GRqy180BHbRw.',
    tid: TENANT,
    uti: 'fqiBqXLPj0eQa82S-IYFAA',
    ver: '2.0',
  }
}

/** An ID token as the ID token claims reference lists its claims: aud is the signing-in app. */
function idTokenClaims(now: number, iss: string, aud: string, ver: string): Claims {
  return {
    aud,
    iss,
    iat: now,
    nbf: now,
    exp: now + 3600,
    name: 'Abe Lincoln',
    nonce: '123523',
    oid: '00000000-0000-0000-66f3-3332eca7ea81',
    preferred_username: 'abeli@microsoft.com',
    rh: 'I',
    sub: 'HKZpfaHyWadeOouYlitjrI-KffTm222X5rrV3xDqfKQ',
    tid: TENANT,
    uti: 'Qga-5RW0GUKt3JGCqTUAA',
    ver,
  }
}

describe('entraId, v2.0 tokens (the default)', () => {
  providerConformance(() => ({
    preset: entraId({ tenantId: TENANT, audience: API_CLIENT_ID }),
    jwksUrl: V2_KEYS,
    jwk: entraJwk(V2_ISSUER),
    header: (kid) => ({ typ: 'JWT', alg: 'RS256', kid }),
    claims: v2Claims,
    principal: { clientId: CALLER, scopes: ['Orders.Read.All'] },
    otherIssuer: (c) => ({
      ...c,
      iss: `https://login.microsoftonline.com/${OTHER_TENANT}/v2.0`,
      tid: OTHER_TENANT,
    }),
    wrongAudienceOrClient: (c) => ({ ...c, aud: 'a0f0c1d5-1b3a-4c4e-9a4e-2b1f0d6c7e8f' }),
    idToken: (now) => ({ claims: idTokenClaims(now, V2_ISSUER, CALLER, '2.0') }),
    badScopes: (c) => ({ ...c, roles: { 'Orders.Read.All': true } }),
  }))
})

describe('entraId, v1.0 tokens (version: 1)', () => {
  providerConformance(() => ({
    preset: entraId({ tenantId: TENANT, audience: 'api://orders-api', version: 1 }),
    jwksUrl: V1_KEYS,
    jwk: entraJwk(V1_ISSUER),
    header: (kid) => ({ typ: 'JWT', alg: 'RS256', x5t: kid, kid }),
    claims: (now) => ({
      aud: 'api://orders-api',
      iss: V1_ISSUER,
      iat: now,
      nbf: now,
      exp: now + 3900,
      aio: 'E2ZgYDAQS/8=',
      appid: '75dbe77f-10a3-4e59-85fd-8c127544f17c',
      appidacr: '1',
      idp: V1_ISSUER,
      idtyp: 'app',
      oid: '02223b6b-aa1d-42d4-9ec0-1b2bb9194438',
      sub: '02223b6b-aa1d-42d4-9ec0-1b2bb9194438',
      roles: ['Orders.Read.All', 'Orders.Write.All'],
      rh: '0.AAAAv4j5cvGGr0GRqy180BHbRw.',
      tid: TENANT,
      uti: 'FVsGxYXI30-TuikuuUoFAA',
      ver: '1.0',
    }),
    principal: {
      clientId: '75dbe77f-10a3-4e59-85fd-8c127544f17c',
      scopes: ['Orders.Read.All', 'Orders.Write.All'],
    },
    otherIssuer: (c) => ({ ...c, iss: `https://sts.windows.net/${OTHER_TENANT}/`, tid: OTHER_TENANT }),
    // v1.0 audiences come in several spellings: one the API did not list is refused.
    wrongAudienceOrClient: (c) => ({ ...c, aud: 'api://orders-api/' }),
    idToken: (now) => ({
      header: { typ: 'JWT', alg: 'RS256', kid: 'provider-key-1' },
      claims: idTokenClaims(now, V1_ISSUER, '75dbe77f-10a3-4e59-85fd-8c127544f17c', '1.0'),
    }),
    badScopes: (c) => ({ ...c, roles: [42] }),
  }))
})

describe('entraId, beyond the shared cases', () => {
  let key: TestKey
  let server: KeyServer

  beforeAll(async () => {
    key = await makeKey('RS256', 'entra-extra')
    server = keyServer(V2_KEYS, () => [entraJwk(V2_ISSUER)(key.publicJwk)])
  })
  afterAll(() => server.dispatcher.close())

  const preset = () => ({
    ...entraId({ tenantId: TENANT, audience: API_CLIENT_ID }),
    dispatcher: server.dispatcher,
  })
  const header = { typ: 'JWT', alg: 'RS256', kid: 'entra-extra' }

  it('refuses an ID token even when its aud is the API itself: it names no client in azp or appid', async () => {
    const outcome = await verdict(
      preset(),
      sign(key, header, idTokenClaims(nowSec(), V2_ISSUER, API_CLIENT_ID, '2.0')),
    )
    expect(outcome).toBeInstanceOf(InvalidTokenError)
  })

  it('reads delegated scopes from scp beside application roles', async () => {
    const claims = { ...v2Claims(nowSec()), roles: undefined, scp: 'Orders.Read Orders.Write' }
    const outcome = await verdict(preset(), sign(key, header, claims))
    if (outcome instanceof Error) throw outcome
    expect(outcome.scopes).toEqual(['Orders.Read', 'Orders.Write'])
  })

  it('accepts an app-only token without roles, with no scopes (requiredScopes then refuses it)', async () => {
    const outcome = await verdict(preset(), sign(key, header, { ...v2Claims(nowSec()), roles: undefined }))
    if (outcome instanceof Error) throw outcome
    expect(outcome.scopes).toEqual([])
  })

  it('accepts v1.0 and v2.0 tokens with both presets in one verifier, each from its own key URL', async () => {
    const v1 = keyServer(V1_KEYS, () => [entraJwk(V1_ISSUER)(key.publicJwk)])
    const verifier = createVerifier([
      {
        ...entraId({ tenantId: TENANT, audience: 'api://orders-api', version: 1 }),
        dispatcher: v1.dispatcher,
      },
      preset(),
    ])
    try {
      const v1Claims = { ...v2Claims(nowSec()), iss: V1_ISSUER, aud: 'api://orders-api', azp: undefined }
      const fromV1 = await verifier.verify(sign(key, header, { ...v1Claims, appid: 'v1-caller', ver: '1.0' }))
      const fromV2 = await verifier.verify(sign(key, header, v2Claims(nowSec())))
      expect([fromV1.clientId, fromV2.clientId]).toEqual(['v1-caller', CALLER])
      expect(v1.requests).toEqual([V1_KEYS])
    } finally {
      await verifier.close()
      await v1.dispatcher.close()
    }
  })

  it('refuses a v1.0 token on a v2.0 preset (the issuer differs)', async () => {
    const claims = { ...v2Claims(nowSec()), iss: V1_ISSUER, ver: '1.0' }
    expect(await verdict(preset(), sign(key, header, claims))).toBeInstanceOf(InvalidTokenError)
  })
})

describe('entraId options', () => {
  it('returns the documented issuer, key URL, typ policy, algorithms and claim names', () => {
    expect(entraId({ tenantId: TENANT.toUpperCase(), audience: [API_CLIENT_ID, 'api://orders'] })).toEqual({
      issuer: V2_ISSUER,
      audience: [API_CLIENT_ID, 'api://orders'],
      jwksUri: V2_KEYS,
      algorithms: ['RS256'],
      typ: 'lenient',
      claims: { clientId: ['azp', 'appid'], scopes: ['roles', 'scp'] },
    })
    expect(entraId({ tenantId: TENANT, audience: 'api://orders', version: 1 })).toMatchObject({
      issuer: V1_ISSUER,
      jwksUri: V1_KEYS,
    })
  })

  it('refuses what cannot name a tenant or an audience', () => {
    const bad: [unknown, RegExp][] = [
      [undefined, /options are required/],
      [{ tenantId: '', audience: 'a' }, /tenantId must be a non-empty string/],
      [{ tenantId: ' ', audience: 'a' }, /tenantId must not contain whitespace/],
      [{ tenantId: `${TENANT}/..`, audience: 'a' }, /tenantId must not contain/],
      [
        { tenantId: 'contoso.onmicrosoft.com', audience: 'a' },
        /tenantId must be the directory \(tenant\) ID, a GUID/,
      ],
      [{ tenantId: 'common', audience: 'a' }, /GUID/],
      [{ tenantId: TENANT, audience: '' }, /audience must hold non-empty strings/],
      [{ tenantId: TENANT, audience: [] }, /audience must be a non-empty string or a non-empty array/],
      [{ tenantId: TENANT, audience: null }, /audience must be a non-empty/],
      [{ tenantId: TENANT, audience: 'a', version: 3 }, /version must be 1 or 2/],
    ]
    for (const [options, message] of bad) {
      const call = () => entraId(options as EntraIdPresetOptions)
      expect(call, JSON.stringify(options)).toThrow(ConfigurationError)
      expect(call, JSON.stringify(options)).toThrow(message)
    }
  })
})
