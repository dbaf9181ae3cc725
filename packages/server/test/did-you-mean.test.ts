import { createAuthorizationServer } from '@oauth-m2m/server'
import { describe, expect, it } from 'vitest'
import { closestNames } from '../src/did-you-mean.js'

const CLIENT_MEMBERS = [
  'client_id',
  'client_secret',
  'client_secrets',
  'scope',
  'resources',
  'jwks',
  'jwks_uri',
]

describe('closestName', () => {
  it('finds a transposition, a missing letter, an extra letter and another spelling of the name', () => {
    expect(closestNames('scpoe', CLIENT_MEMBERS)).toEqual(['scope'])
    expect(closestNames('scop', CLIENT_MEMBERS)).toEqual(['scope'])
    expect(closestNames('clientId', CLIENT_MEMBERS)).toEqual(['client_id'])
    expect(closestNames('JWKS-URI', CLIENT_MEMBERS)).toEqual(['jwks_uri'])
  })

  it('names every one of equally near names', () => {
    expect(closestNames('client_secrett', CLIENT_MEMBERS)).toEqual(['client_secret', 'client_secrets'])
    expect(closestNames('client_secretz', CLIENT_MEMBERS)).toEqual(['client_secret', 'client_secrets'])
  })

  it('suggests nothing for a name far from all, or a huge one', () => {
    expect(closestNames('audience', CLIENT_MEMBERS)).toEqual([])
    expect(closestNames('s'.repeat(100_000), CLIENT_MEMBERS)).toEqual([])
  })
})

describe('configuration errors suggest the known name', () => {
  it('for a top-level option and for the members of rateLimit, endpoints, trustedProxy and resources', async () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [
        { clients: [], accesTokenLifetimeSec: 60 },
        /accesTokenLifetimeSec is not a known option \(did you mean "accessTokenLifetimeSec"\?\)/,
      ],
      [
        { clients: [], rateLimit: { maxFailure: 3 } },
        /rateLimit\.maxFailure is not a known option \(did you mean "maxFailures"\?\)/,
      ],
      [{ clients: [], endpoints: { introspect: 'https://a.example/i' } }, /did you mean "introspection"\?/],
      [
        { clients: [], trustedProxy: { addresses: ['10.0.0.1'], forwardedfor: true } },
        /did you mean "forwardedFor"\?/,
      ],
      [
        { clients: [], resources: [{ resource: 'https://api.example', audiance: 'x' }] },
        /resources\[0\]\.audiance is not a known option \(did you mean "audience"\?\)/,
      ],
    ]
    for (const [config, message] of cases) {
      await expect(createAuthorizationServer(config as never)).rejects.toThrow(message)
    }
    await expect(createAuthorizationServer({ clients: [], zzz: 1 } as never)).rejects.toThrow(
      /zzz is not a known option$/,
    )
  })
})
