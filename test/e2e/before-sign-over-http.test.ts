/**
 * The server's `beforeSign` hook reaches tokens a client gets by itself: the real token client
 * over a real loopback port, the claims checked by the real verifier (locally for a JWT, through
 * the server's introspection for an opaque token).
 */
import { createTokenClient } from '@oauth-m2m/client'
import { clientSecretBasic } from '@oauth-m2m/core'
import type { BeforeSignContext } from '@oauth-m2m/server'
import { startAuthorizationServer } from '@oauth-m2m/testing'
import { createVerifier } from '@oauth-m2m/verifier'
import { expect, it } from 'vitest'

const OPAQUE_API = 'https://opaque.example.test'

it('puts the beforeSign claims into JWT and opaque tokens a client gets over HTTP', async () => {
  const contexts: BeforeSignContext[] = []
  const as = await startAuthorizationServer({
    resources: [{ resource: OPAQUE_API, tokenFormat: 'opaque' }],
    clients: [{ client_id: 'rs', client_secret: 'rs-secret-0123456789' }],
    beforeSign: async (context) => {
      contexts.push(context)
      return { tenant: 'tenant-1', roles: context.scopes.map((s) => `role:${s}`), via: context.format }
    },
  })
  const client = createTokenClient({ ...as.createClient(), scope: 'read' })
  const verifier = createVerifier({
    issuer: as.issuer,
    audience: [as.audience, OPAQUE_API],
    introspection: { clientId: 'rs', auth: clientSecretBasic('rs-secret-0123456789') },
  })
  try {
    const jwt = await verifier.verify((await client.getToken()).accessToken)
    expect(jwt.source).toBe('jwt')
    expect(jwt.claims).toMatchObject({ tenant: 'tenant-1', roles: ['role:read'], via: 'jwt' })

    const opaque = await verifier.verify((await client.getToken({ resource: OPAQUE_API })).accessToken)
    expect(opaque.source).toBe('introspection')
    expect(opaque.claims).toMatchObject({ tenant: 'tenant-1', roles: ['role:read'], via: 'opaque' })

    expect(contexts.map((c) => [c.client.client_id, c.params.grant_type, c.resources])).toEqual([
      ['test-client', 'client_credentials', []],
      ['test-client', 'client_credentials', [OPAQUE_API]],
    ])
  } finally {
    await client.close()
    await verifier.close()
    await as.close()
  }
})
