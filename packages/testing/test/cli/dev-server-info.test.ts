import { afterEach, describe, expect, it } from 'vitest'
import { formatBanner } from '../../src/cli/banner.js'
import { devServerInfo } from '../../src/cli/dev-server-info.js'
import { type StartedAuthorizationServer, startAuthorizationServer } from '../../src/index.js'

const servers: StartedAuthorizationServer[] = []
afterEach(async () => {
  await Promise.all(servers.splice(0).map((as) => as.close()))
})

async function start(options: Parameters<typeof startAuthorizationServer>[0]) {
  const as = await startAuthorizationServer(options)
  servers.push(as)
  return as
}

describe('devServerInfo', () => {
  it('tells a private_key_jwt demo client its generated private key', async () => {
    const as = await start({ defaultClient: { token_endpoint_auth_method: 'private_key_jwt' } })
    const info = devServerInfo(as, 'rfc9068')
    expect(info.demoClient).toMatchObject({
      clientId: 'test-client',
      tokenEndpointAuthMethod: 'private_key_jwt',
    })
    expect(info.demoClient?.clientSecret).toBeUndefined()
    expect(info.demoClient?.privateJwk).toMatchObject({ kty: 'EC', d: expect.any(String) })
    expect(formatBanner(info, undefined)).toContain('demo private_jwk: {"')
  })

  it('names a demo client registered with its own keys, without credentials it does not have', async () => {
    const { publicKey } = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
    ])
    const jwk = await crypto.subtle.exportKey('jwk', publicKey)
    const as = await start({
      defaultClient: {
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [jwk as never] },
        scope: 'a',
      },
    })
    const info = devServerInfo(as, 'rfc9068')
    expect(info.demoClient).toEqual({
      clientId: 'test-client',
      clientSecret: undefined,
      scope: 'a',
      tokenEndpointAuthMethod: 'private_key_jwt',
      privateJwk: undefined,
    })
    const banner = formatBanner(info, undefined)
    expect(banner).toContain('demo client_id: test-client\n')
    expect(banner).not.toContain('demo client_secret')
  })

  it('has no demo client when the config turns the default one off and lists none', async () => {
    const as = await start({ defaultClient: false })
    const info = devServerInfo(as, 'rfc9068')
    expect(info.demoClient).toBeUndefined()
    expect(formatBanner(info, undefined)).not.toContain('demo ')
  })
})
