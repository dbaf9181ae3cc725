/**
 * `audience: null` with `clientIds`, for issuers whose access tokens carry no `aud` (Cognito), and
 * `clientIds` as an allowlist beside an audience. Neither an audience nor `clientIds` is a
 * configuration error: a verifier must never accept tokens minted for someone else.
 */
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import { createVerifier, InvalidTokenError, type VerifierOptions } from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

let as: TestIssuer
let key: TestKey

beforeAll(async () => {
  key = await makeKey('ES256', 'aud-key')
  as = await startTestIssuer([key.publicJwk])
})
afterAll(() => as.close())

function verifierFor(options: Partial<VerifierOptions>) {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: as.jwksUri,
    tokenCache: false,
    ...options,
  } as VerifierOptions)
}

async function verdict(options: Partial<VerifierOptions>, claims: Record<string, unknown>) {
  const verifier = verifierFor(options)
  try {
    return await verifier.verify(await mintToken(key, accessTokenClaims(claims)))
  } catch (err) {
    return err as Error
  } finally {
    await verifier.close()
  }
}

describe('audience: null with clientIds', () => {
  const COGNITO_STYLE = { audience: null, clientIds: ['app-client-1', 'app-client-2'] }

  it('accepts a token without aud from an allowed client', async () => {
    const principal = await verdict(COGNITO_STYLE, { aud: undefined, client_id: 'app-client-2' })
    expect(principal).toMatchObject({ clientId: 'app-client-2', audience: [] })
  })

  it('does not judge an aud the token does carry', async () => {
    const principal = await verdict(COGNITO_STYLE, {
      aud: 'https://elsewhere.example',
      client_id: 'app-client-1',
    })
    expect(principal).toMatchObject({ clientId: 'app-client-1', audience: ['https://elsewhere.example'] })
  })

  it('refuses a client that is not listed', async () => {
    const result = await verdict(COGNITO_STYLE, { aud: undefined, client_id: 'someone-else' })
    expect(result).toBeInstanceOf(InvalidTokenError)
    expect((result as Error).message).toBe('the token was issued to a client that is not allowed here')
  })

  it('reads the client through the claim mapping', async () => {
    const options = { ...COGNITO_STYLE, claims: { clientId: ['azp'] } }
    expect(
      await verdict(options, { aud: undefined, client_id: 'someone-else', azp: 'app-client-1' }),
    ).toMatchObject({ clientId: 'app-client-1' })
    expect(await verdict(options, { aud: undefined, client_id: 'app-client-1', azp: 'x' })).toBeInstanceOf(
      InvalidTokenError,
    )
  })

  it('applies to introspection answers too', async () => {
    as.onIntrospect((call) => ({
      body: { active: true, iss: ISSUER, client_id: call.form.get('token')!.slice(0, 12) },
    }))
    const verifier = verifierFor({
      ...COGNITO_STYLE,
      introspection: { endpoint: as.introspectionEndpoint, clientId: 'api', auth: clientSecretBasic('s') },
    })
    await expect(verifier.verify('app-client-1-opaque')).resolves.toMatchObject({ clientId: 'app-client-1' })
    await expect(verifier.verify('someone-else-opaque')).rejects.toThrow(
      'the token was issued to a client that is not allowed here',
    )
    await verifier.close()
  })
})

describe('clientIds beside an audience', () => {
  it('is an allowlist on top of the aud check', async () => {
    const options = { clientIds: ['service-a'] }
    expect(await verdict(options, {})).toMatchObject({ clientId: 'service-a' })
    expect(await verdict(options, { client_id: 'service-b' })).toBeInstanceOf(InvalidTokenError)
    const wrongAud = await verdict(options, { aud: 'https://elsewhere.example' })
    expect((wrongAud as Error).message).toBe('the token is not meant for this audience')
  })
})

describe('configurations that would accept tokens minted for someone else', () => {
  it.each<[string, Record<string, unknown>]>([
    ['audience null without clientIds', { audience: null }],
    ['no audience at all', { audience: undefined }],
    ['no audience and clientIds', { audience: undefined, clientIds: ['a'] }],
  ])('%s is a ConfigurationError', (_, options) => {
    expect(() => verifierFor(options)).toThrow(ConfigurationError)
    expect(() => verifierFor(options)).toThrow(/never accept tokens minted for someone else/)
  })

  it.each<[string, unknown]>([
    ['an empty list', []],
    ['a string', 'app-client-1'],
    ['an empty client id', ['app', '']],
    ['a number', [7]],
  ])('clientIds as %s is a ConfigurationError', (_, clientIds) => {
    expect(() => verifierFor({ audience: null, clientIds: clientIds as string[] })).toThrow(
      ConfigurationError,
    )
    expect(() => verifierFor({ clientIds: clientIds as string[] })).toThrow(/clientIds/)
  })
})
