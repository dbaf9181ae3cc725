/**
 * `createVerifier([preset])`: an array of one entry still picks the entry by the token's `iss`
 * before any key is fetched, as arrays of several entries do. A token of an unknown issuer is
 * refused without a single request to the entry's key URL (a lone options object, which has no
 * entries to pick from, is not covered here).
 */
import { createVerifier, entraId, InvalidTokenError, type Verifier } from '@oauth-m2m/verifier'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeKey, type TestKey } from '../support/keys.js'
import { type KeyServer, keyServer, nowSec, sign } from './provider-harness.js'

const TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const OTHER_TENANT = 'fa15d692-e9c7-4460-a743-29f2956fd429'
const API_CLIENT_ID = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const KEYS = `https://login.microsoftonline.com/${TENANT}/discovery/v2.0/keys`

let key: TestKey
let server: KeyServer
let verifier: Verifier | undefined

beforeAll(async () => {
  key = await makeKey('RS256', 'one-entry')
  server = keyServer(KEYS, () => [key.publicJwk])
})
afterEach(async () => {
  await verifier?.close()
  verifier = undefined
})
afterAll(() => server.dispatcher.close())

function arrayOfOne(): Verifier {
  verifier = createVerifier([
    { ...entraId({ tenantId: TENANT, audience: API_CLIENT_ID }), dispatcher: server.dispatcher },
  ])
  return verifier
}

/** An Entra v2.0 app-only token of `tenant`. */
function token(tenant: string, overrides: Record<string, unknown> = {}): string {
  const now = nowSec()
  return sign(
    key,
    { typ: 'JWT', alg: 'RS256', kid: key.kid },
    {
      aud: API_CLIENT_ID,
      iss: `https://login.microsoftonline.com/${tenant}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      azp: '535fb089-9ff3-47b6-9bfb-4f1264799865',
      roles: ['Orders.Read.All'],
      tid: tenant,
      ver: '2.0',
      ...overrides,
    },
  )
}

describe('an array of one entry', () => {
  it('refuses a token of an unknown issuer without fetching the entry keys', async () => {
    const before = server.requests.length
    const refusal = await arrayOfOne()
      .verify(token(OTHER_TENANT))
      .catch((err: unknown) => err)
    expect(refusal).toBeInstanceOf(InvalidTokenError)
    expect((refusal as Error).message).toBe('the token was issued by an unexpected issuer')
    expect(server.requests.length - before).toBe(0)
  })

  it('refuses a token without iss without fetching the entry keys', async () => {
    const before = server.requests.length
    const refusal = await arrayOfOne()
      .verify(token(TENANT, { iss: undefined }))
      .catch((err: unknown) => err)
    expect(refusal).toBeInstanceOf(InvalidTokenError)
    expect((refusal as Error).message).toBe('the token has no "iss" claim')
    expect(server.requests.length - before).toBe(0)
  })

  it("fetches the entry's keys once for a token of its own issuer (the counter sees requests)", async () => {
    const before = server.requests.length
    const principal = await arrayOfOne().verify(token(TENANT))
    expect(principal.clientId).toBe('535fb089-9ff3-47b6-9bfb-4f1264799865')
    expect(server.requests.slice(before)).toEqual([KEYS])
  })
})
