/**
 * cognito(): client-credentials access tokens of a Cognito user pool as AWS documents them
 * (header with only kid and alg, no `aud`, `client_id`, `token_use: "access"`, `scope` string),
 * verified with keys served at {issuer}/.well-known/jwks.json.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { type CognitoPresetOptions, cognito, InvalidTokenError } from '@oauth-m2m/verifier'
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

const ISSUER = 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example'
const KEYS = 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_example/.well-known/jwks.json'
const CLIENT = '57cbishk4j24pabc1234567890'

const cognitoJwk = ({ n, e, kid }: { n?: string; e?: string; kid?: string }) => ({
  alg: 'RS256',
  e,
  kid,
  kty: 'RSA',
  n,
  use: 'sig',
})

function accessClaims(now: number): Claims {
  return {
    sub: CLIENT,
    token_use: 'access',
    scope: 'https://api.example.com/orders.read https://api.example.com/orders.write',
    auth_time: now,
    iss: ISSUER,
    exp: now + 3600,
    iat: now,
    version: 2,
    jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    client_id: CLIENT,
  }
}

/** A Cognito ID token: aud is the app client, token_use "id", user attributes, no client_id. */
function idClaims(now: number): Claims {
  return {
    sub: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    'cognito:groups': ['admin'],
    email_verified: true,
    iss: ISSUER,
    'cognito:username': 'janedoe',
    origin_jti: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee',
    aud: CLIENT,
    event_id: 'cccccccc-dddd-eeee-ffff-aaaaaaaaaaaa',
    token_use: 'id',
    auth_time: now,
    exp: now + 3600,
    iat: now,
    jti: 'dddddddd-eeee-ffff-aaaa-bbbbbbbbbbbb',
    email: 'janedoe@example.com',
  }
}

describe('cognito, client-credentials tokens', () => {
  providerConformance(() => ({
    preset: cognito({ region: 'us-west-2', userPoolId: 'us-west-2_example', clientId: CLIENT }),
    jwksUrl: KEYS,
    jwk: cognitoJwk,
    header: (kid) => ({ kid, alg: 'RS256' }),
    claims: accessClaims,
    principal: {
      clientId: CLIENT,
      scopes: ['https://api.example.com/orders.read', 'https://api.example.com/orders.write'],
    },
    otherIssuer: (c) => ({ ...c, iss: 'https://cognito-idp.us-west-2.amazonaws.com/us-west-2_other' }),
    // No aud in Cognito access tokens: the client is what says whom the token is for.
    wrongAudienceOrClient: (c) => ({ ...c, client_id: 'another-app-client', sub: 'another-app-client' }),
    idToken: (now) => ({ claims: idClaims(now) }),
    badScopes: (c) => ({ ...c, scope: { 'https://api.example.com/orders.read': true } }),
  }))
})

describe('cognito, beyond the shared cases', () => {
  let key: TestKey
  let server: KeyServer

  beforeAll(async () => {
    key = await makeKey('RS256', 'cognito-extra')
    server = keyServer(KEYS, () => [cognitoJwk(key.publicJwk)])
  })
  afterAll(() => server.dispatcher.close())

  const preset = () => ({
    ...cognito({ region: 'us-west-2', userPoolId: 'us-west-2_example', clientId: [CLIENT, 'second-client'] }),
    dispatcher: server.dispatcher,
  })
  const header = { kid: 'cognito-extra', alg: 'RS256' }

  it('refuses a token whose token_use is not access, even one that names an allowed client', async () => {
    for (const tokenUse of ['id', undefined, 'ACCESS']) {
      const claims = { ...idClaims(nowSec()), client_id: CLIENT, token_use: tokenUse }
      const outcome = await verdict(preset(), sign(key, header, claims))
      expect(outcome, String(tokenUse)).toBeInstanceOf(InvalidTokenError)
      expect((outcome as Error).message).toBe(
        'the token is not a Cognito access token (its "token_use" is not "access")',
      )
    }
  })

  it('accepts each listed app client', async () => {
    const outcome = await verdict(
      preset(),
      sign(key, header, { ...accessClaims(nowSec()), client_id: 'second-client' }),
    )
    if (outcome instanceof Error) throw outcome
    expect(outcome.clientId).toBe('second-client')
  })
})

describe('cognito options', () => {
  it('returns the documented issuer and key URL, no audience, the app clients and the token_use check', () => {
    const options = cognito({ region: 'eu-central-1', userPoolId: 'eu-central-1_AbC123', clientId: 'app' })
    expect({ ...options, check: typeof options.check }).toEqual({
      issuer: 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbC123',
      audience: null,
      clientIds: ['app'],
      jwksUri: 'https://cognito-idp.eu-central-1.amazonaws.com/eu-central-1_AbC123/.well-known/jwks.json',
      algorithms: ['RS256'],
      typ: 'lenient',
      claims: { clientId: ['client_id'], scopes: ['scope'] },
      check: 'function',
    })
  })

  it('refuses a malformed region, pool or client', () => {
    const ok = { region: 'us-west-2', userPoolId: 'us-west-2_example', clientId: CLIENT }
    const bad: [unknown, RegExp][] = [
      [{ ...ok, region: '' }, /region must be a non-empty string/],
      [{ ...ok, region: 'US-WEST-2' }, /region must be an AWS Region/],
      [{ ...ok, region: 'us-west-2.evil.example' }, /region must be an AWS Region/],
      [{ ...ok, userPoolId: 'example' }, /userPoolId must be a user pool ID/],
      [{ ...ok, userPoolId: 'us-west-2_ex/../x' }, /userPoolId must not contain/],
      [{ ...ok, userPoolId: 'eu-west-1_example' }, /is not a pool of region us-west-2/],
      [{ ...ok, clientId: [] }, /clientId must be a non-empty string or a non-empty array/],
      [{ ...ok, clientId: ' ' }, /clientId must not contain whitespace/],
      [{ ...ok, clientId: undefined }, /clientId must be a non-empty/],
    ]
    for (const [options, message] of bad) {
      const call = () => cognito(options as CognitoPresetOptions)
      expect(call, JSON.stringify(options)).toThrow(ConfigurationError)
      expect(call, JSON.stringify(options)).toThrow(message)
    }
  })
})
