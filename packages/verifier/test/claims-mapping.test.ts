/**
 * `claims: { clientId, scopes }`: where the client id and the granted scopes are read from, for
 * JWTs and introspection answers alike, and the refusal of a present claim of the wrong type.
 */
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import {
  createVerifier,
  DEFAULT_CLIENT_ID_CLAIMS,
  DEFAULT_SCOPE_CLAIMS,
  InvalidTokenError,
  type VerifierOptions,
} from '@oauth-m2m/verifier'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

let as: TestIssuer
let key: TestKey

beforeAll(async () => {
  key = await makeKey('ES256', 'claims-key')
  as = await startTestIssuer([key.publicJwk])
})
afterAll(() => as.close())

const ENTRA_STYLE = { clientId: ['azp', 'appid'], scopes: ['roles', 'scp'] }

function verifierFor(options: Partial<VerifierOptions> = {}) {
  return createVerifier({
    issuer: ISSUER,
    audience: AUDIENCE,
    jwksUri: as.jwksUri,
    tokenCache: false,
    ...options,
  })
}

/** Claims without the RFC 9068 client id and scope, plus `extra`. */
function providerClaims(extra: Record<string, unknown>) {
  return accessTokenClaims({ client_id: undefined, scope: undefined, ...extra })
}

async function verdict(options: Partial<VerifierOptions>, claims: Record<string, unknown>) {
  const verifier = verifierFor(options)
  try {
    return await verifier.verify(await mintToken(key, claims))
  } catch (err) {
    return err as Error
  } finally {
    await verifier.close()
  }
}

describe('the defaults', () => {
  it('are client_id and scope', () => {
    expect(DEFAULT_CLIENT_ID_CLAIMS).toEqual(['client_id'])
    expect(DEFAULT_SCOPE_CLAIMS).toEqual(['scope'])
  })

  it('do not read azp, appid, roles or scp', async () => {
    const result = await verdict({}, providerClaims({ azp: 'app-1', appid: 'app-1', roles: ['a'] }))
    expect(result).toBeInstanceOf(InvalidTokenError)
    expect((result as Error).message).toBe('the token names no client (no "client_id" claim)')
    const principal = await verdict({}, accessTokenClaims({ roles: ['admin'], scp: 'admin' }))
    expect(principal).toMatchObject({ clientId: 'service-a', scopes: ['read:things', 'write:things'] })
  })
})

describe('claims.clientId', () => {
  it('reads the first claim the token has', async () => {
    expect(
      await verdict({ claims: ENTRA_STYLE }, providerClaims({ azp: 'v2-app', appid: 'v1-app' })),
    ).toMatchObject({ clientId: 'v2-app' })
    expect(await verdict({ claims: ENTRA_STYLE }, providerClaims({ appid: 'v1-app' }))).toMatchObject({
      clientId: 'v1-app',
    })
  })

  it('no longer reads client_id when it is not listed', async () => {
    const result = await verdict({ claims: ENTRA_STYLE }, accessTokenClaims())
    expect(result).toBeInstanceOf(InvalidTokenError)
    expect((result as Error).message).toBe('the token names no client (no "azp" or "appid" claim)')
  })

  it.each([
    ['a number', 42],
    ['an array', ['v2-app']],
    ['null', null],
    ['an object', { id: 'v2-app' }],
    ['a boolean', true],
  ])('refuses a first claim that is %s, even when a later one is fine', async (_, azp) => {
    const result = await verdict({ claims: ENTRA_STYLE }, providerClaims({ azp, appid: 'v1-app' }))
    expect(result).toBeInstanceOf(InvalidTokenError)
    expect((result as Error).message).toBe('the token\'s "azp" claim is not a string')
  })

  it('refuses an empty client id instead of falling through', async () => {
    const result = await verdict({ claims: ENTRA_STYLE }, providerClaims({ azp: '', appid: 'v1-app' }))
    expect(result).toBeInstanceOf(InvalidTokenError)
    expect((result as Error).message).toBe('the token\'s "azp" claim is empty')
  })

  it('refuses a client_id array under the default', async () => {
    const result = await verdict({}, accessTokenClaims({ client_id: ['service-a'] }))
    expect(result).toBeInstanceOf(InvalidTokenError)
    expect((result as Error).message).toBe('the token\'s "client_id" claim is not a string')
  })
})

describe('claims.scopes', () => {
  it('merges every listed claim, strings and arrays, in order and without duplicates', async () => {
    const principal = await verdict(
      { claims: ENTRA_STYLE },
      providerClaims({ azp: 'app', roles: ['Things.Read', 'Things.Write'], scp: 'user.read  Things.Read' }),
    )
    expect(principal).toMatchObject({ scopes: ['Things.Read', 'Things.Write', 'user.read'] })
  })

  it('gives no scopes when none of the claims is present', async () => {
    expect(await verdict({ claims: ENTRA_STYLE }, providerClaims({ azp: 'app' }))).toMatchObject({
      scopes: [],
    })
  })

  it('reads scope next to an array claim (Auth0 permissions)', async () => {
    const principal = await verdict(
      { claims: { scopes: ['scope', 'permissions'] } },
      accessTokenClaims({ scope: 'read:things', permissions: ['read:things', 'delete:things'] }),
    )
    expect(principal).toMatchObject({ scopes: ['read:things', 'delete:things'] })
  })

  it('passes the merged scopes to requiredScopes', async () => {
    const verifier = verifierFor({ claims: ENTRA_STYLE })
    const token = await mintToken(key, providerClaims({ azp: 'app', roles: ['Things.Write'] }))
    await expect(verifier.verify(token, { requiredScopes: ['Things.Write'] })).resolves.toMatchObject({
      clientId: 'app',
    })
    await expect(verifier.verify(token, { requiredScopes: ['Things.Read'] })).rejects.toMatchObject({
      error: 'insufficient_scope',
    })
    await verifier.close()
  })

  it.each<[string, Partial<VerifierOptions>, Record<string, unknown>, string]>([
    ['scope as a number', {}, { client_id: 'c', scope: 7 }, 'the token\'s "scope" claim is not a string'],
    [
      'scope as an array',
      {},
      { client_id: 'c', scope: ['read:things'] },
      'the token\'s "scope" claim is not a string',
    ],
    [
      'scope as an array, even when listed with others',
      { claims: { scopes: ['scope', 'permissions'] } },
      { client_id: 'c', scope: ['read:things'] },
      'the token\'s "scope" claim is not a string',
    ],
    [
      'roles as an array of numbers',
      { claims: ENTRA_STYLE },
      { azp: 'app', roles: [1, 2] },
      'the token\'s "roles" claim is neither a string nor an array of strings',
    ],
    [
      'roles mixing strings and null',
      { claims: ENTRA_STYLE },
      { azp: 'app', roles: ['a', null] },
      'the token\'s "roles" claim is neither a string nor an array of strings',
    ],
    [
      'roles as an object',
      { claims: ENTRA_STYLE },
      { azp: 'app', roles: { admin: true } },
      'the token\'s "roles" claim is neither a string nor an array of strings',
    ],
    [
      'scp as a boolean',
      { claims: ENTRA_STYLE },
      { azp: 'app', roles: ['a'], scp: true },
      'the token\'s "scp" claim is neither a string nor an array of strings',
    ],
    [
      'scp as null',
      { claims: ENTRA_STYLE },
      { azp: 'app', scp: null },
      'the token\'s "scp" claim is neither a string nor an array of strings',
    ],
  ])('refuses %s', async (_, options, claims, message) => {
    const result = await verdict(options, providerClaims(claims))
    expect(result).toBeInstanceOf(InvalidTokenError)
    expect((result as Error).message).toBe(message)
  })
})

describe('introspection answers', () => {
  const OPAQUE = 'b3BhcXVlLXRva2VuLWZvci1jbGFpbXMtbWFwcGluZw'

  function introspectingVerifier(answer: Record<string, unknown>) {
    as.onIntrospect(() => ({ body: { active: true, iss: ISSUER, aud: AUDIENCE, ...answer } }))
    return verifierFor({
      claims: { clientId: ['cid'], scopes: ['scp'] },
      introspection: {
        endpoint: as.introspectionEndpoint,
        clientId: 'api',
        auth: clientSecretBasic('secret'),
      },
    })
  }

  it('are read through the same claim names', async () => {
    const verifier = introspectingVerifier({ cid: 'okta-app', scp: ['read', 'write'], client_id: 'ignored' })
    await expect(verifier.verify(OPAQUE)).resolves.toMatchObject({
      clientId: 'okta-app',
      scopes: ['read', 'write'],
      source: 'introspection',
    })
    await verifier.close()
  })

  it('are refused for a claim of the wrong type', async () => {
    const verifier = introspectingVerifier({ cid: 'okta-app', scp: 3 })
    await expect(verifier.verify(OPAQUE)).rejects.toThrow(
      'the token\'s "scp" claim is neither a string nor an array of strings',
    )
    await verifier.close()
  })
})

describe('invalid claims options', () => {
  it.each<[string, unknown]>([
    ['not an object', 'azp'],
    ['an empty clientId list', { clientId: [] }],
    ['a clientId string', { clientId: 'azp' }],
    ['an empty claim name', { scopes: ['scope', ''] }],
    ['a non-string claim name', { scopes: [1] }],
    ['an empty scopes list', { scopes: [] }],
  ])('%s is a ConfigurationError', (_, claims) => {
    expect(() => verifierFor({ claims: claims as VerifierOptions['claims'] })).toThrow(ConfigurationError)
  })
})
