import { ConfigurationError } from '@oauth-m2m/core'
import { type AuthorizationServerConfig, createAuthorizationServer } from '@oauth-m2m/server'
import { describe, expect, it } from 'vitest'

async function refusal(config: unknown): Promise<string> {
  const error = await createAuthorizationServer(config as AuthorizationServerConfig).then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(ConfigurationError)
  return (error as ConfigurationError).message
}

const ok = { client_id: 'a', client_secret: 's' }

describe('configuration validation', () => {
  it.each([
    ['a missing clients array', {}, 'clients'],
    ['an unknown option', { clients: [], tokenLifetime: 5 }, 'tokenLifetime'],
    ['a client without client_id', { clients: [ok, { client_secret: 's' }] }, 'clients[1].client_id'],
    ['a duplicate client_id', { clients: [ok, ok] }, 'clients[1].client_id'],
    [
      'an unknown auth method',
      { clients: [ok, { client_id: 'b', token_endpoint_auth_method: 'tls_magic' }] },
      'clients[1].token_endpoint_auth_method',
    ],
    ['a basic client without secret', { clients: [{ client_id: 'b' }] }, 'clients[0].client_secret'],
    [
      'client_secret_jwt with only a hash',
      {
        clients: [
          {
            client_id: 'b',
            token_endpoint_auth_method: 'client_secret_jwt',
            client_secret_hash: 'A'.repeat(43),
          },
        ],
      },
      'clients[0].client_secret',
    ],
    [
      'a malformed secret hash',
      { clients: [{ client_id: 'b', client_secret_hash: 'abc' }] },
      'clients[0].client_secret_hash',
    ],
    [
      'private_key_jwt without keys',
      { clients: [{ client_id: 'b', token_endpoint_auth_method: 'private_key_jwt' }] },
      'clients[0].jwks',
    ],
    [
      'a private key in jwks',
      {
        clients: [
          {
            client_id: 'b',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks: { keys: [{ kty: 'EC', d: 'x' }] },
          },
        ],
      },
      'clients[0].jwks.keys[0]',
    ],
    [
      'an HMAC alg for private_key_jwt',
      {
        clients: [
          {
            client_id: 'b',
            token_endpoint_auth_method: 'private_key_jwt',
            jwks_uri: 'https://b.example.com/jwks',
            token_endpoint_auth_signing_alg: 'HS256',
          },
        ],
      },
      'clients[0].token_endpoint_auth_signing_alg',
    ],
    ['a scope outside the grammar', { clients: [{ ...ok, scope: 'read "write"' }] }, 'clients[0].scope'],
    ['a scope with a doubled space', { clients: [{ ...ok, scope: 'read  write' }] }, 'clients[0].scope'],
    ['a scope with a leading space', { clients: [{ ...ok, scope: ' read' }] }, 'clients[0].scope'],
    ['a scope with a trailing space', { clients: [{ ...ok, scope: 'read ' }] }, 'clients[0].scope'],
    [
      'an unconfigured client resource',
      { clients: [{ ...ok, resources: ['https://x.example.com/'] }] },
      'clients[0].resources[0]',
    ],
    ['a relative resource', { clients: [], resources: [{ resource: '/api' }] }, 'resources[0].resource'],
    [
      'a bad token format',
      { clients: [], resources: [{ resource: 'https://a/', tokenFormat: 'paseto' }] },
      'resources[0].tokenFormat',
    ],
    ['a zero lifetime', { clients: [], accessTokenLifetimeSec: 0 }, 'accessTokenLifetimeSec'],
    ['an issuer with a query', { clients: [], issuer: 'https://as.example.com/?x=1' }, 'issuer'],
    ['an unsupported signing alg', { clients: [], signing: { alg: 'HS256' } }, 'signing.alg'],
    [
      'a public signing key',
      { clients: [], signing: { keys: [{ kty: 'EC', crv: 'P-256', x: 'a', y: 'b' }] } },
      'signing.keys[0]',
    ],
    ['a bad rate limit', { clients: [], rateLimit: { maxFailures: -1 } }, 'rateLimit.maxFailures'],
    [
      'a headers time-out above the request time-out',
      { clients: [], requestTimeoutMs: 1000, headersTimeoutMs: 2000 },
      'headersTimeoutMs',
    ],
    ['a zero request time-out', { clients: [], requestTimeoutMs: 0 }, 'requestTimeoutMs'],
    ['a realm with a quote', { clients: [], realm: 'say "hi"' }, 'realm'],
    ['a realm with a backslash', { clients: [], realm: 'a\\b' }, 'realm'],
    ['a realm with a control character', { clients: [], realm: 'a\tb' }, 'realm'],
    ['an empty realm', { clients: [], realm: '' }, 'realm'],
  ])('refuses %s, naming the field', async (_name, config, field) => {
    const message = await refusal(config)
    expect(message).toContain(field)
  })

  it('says what a registered scope must look like', async () => {
    expect(await refusal({ clients: [{ ...ok, scope: 'read  write' }] })).toContain('single spaces')
  })

  it('accepts an http issuer on a non-loopback host (a TLS-terminating proxy or docker-compose)', async () => {
    const server = await createAuthorizationServer({ clients: [], issuer: 'http://auth:8080' })
    expect(server.issuer).toBe('http://auth:8080')
  })

  it('accepts an empty scope: a client that may ask for no scope', async () => {
    const server = await createAuthorizationServer({ clients: [{ ...ok, scope: '' }] })
    expect(server.getClient('a')?.scope).toBe('')
  })

  it('refuses the former name clockSkewSec, naming clockToleranceSec', async () => {
    const message = await refusal({ clients: [], clockSkewSec: 5 })
    expect(message).toContain('clockSkewSec')
    expect(message).toContain('clockToleranceSec')
  })

  it('refuses a negative clockToleranceSec', async () => {
    expect(await refusal({ clients: [], clockToleranceSec: -1 })).toContain('clockToleranceSec')
  })

  it('never puts a secret into the message', async () => {
    const message = await refusal({
      clients: [{ client_id: 'b', client_secret: 'top-secret-value', scope: 'a\nb' }],
    })
    expect(message).not.toContain('top-secret-value')
  })
})
