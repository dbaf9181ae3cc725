import { ConfigurationError, InvalidTokenError } from '@oauth-m2m/core'
import { toWWWAuthenticate } from '@oauth-m2m/verifier'
import { describe, expect, it } from 'vitest'
import {
  isResourceMetadataRequest,
  type ResourceMetadataOptions,
  resolveResourceMetadata,
} from '../../src/middleware/resource-metadata.js'

const AS = ['https://as.example.com']

function resolved(options: Partial<ResourceMetadataOptions> & { resource: string }) {
  const settings = resolveResourceMetadata({ authorizationServers: AS, ...options })
  if (settings === undefined) throw new Error('expected settings')
  return settings
}

describe('resolveResourceMetadata', () => {
  it('is undefined when the option is not given', () => {
    expect(resolveResourceMetadata(undefined)).toBeUndefined()
  })

  it('derives the metadata URL and paths from the resource identifier (RFC 9728 §3.1)', () => {
    const cases = [
      // no path, or only the slash after the host: the bare well-known URL
      ['https://api.example.com', 'https://api.example.com/.well-known/oauth-protected-resource'],
      ['https://api.example.com/', 'https://api.example.com/.well-known/oauth-protected-resource'],
      // a path goes after the well-known suffix, its own trailing slash kept
      [
        'https://api.example.com/things',
        'https://api.example.com/.well-known/oauth-protected-resource/things',
      ],
      [
        'https://api.example.com/v1/things/',
        'https://api.example.com/.well-known/oauth-protected-resource/v1/things/',
      ],
      // the origin as URL serialises it: default port dropped, host lowercased
      ['https://API.example.com:443/x', 'https://api.example.com/.well-known/oauth-protected-resource/x'],
      ['http://127.0.0.1:8080/mcp', 'http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp'],
      ['http://localhost:3000', 'http://localhost:3000/.well-known/oauth-protected-resource'],
    ] as const
    for (const [resource, url] of cases) {
      const settings = resolved({ resource })
      expect(settings.url, resource).toBe(url)
      const suffixed = new URL(url).pathname
      expect(settings.paths, resource).toEqual(
        suffixed === '/.well-known/oauth-protected-resource'
          ? [suffixed]
          : [suffixed, '/.well-known/oauth-protected-resource'],
      )
      // §3.3: the document repeats the identifier exactly as configured.
      expect(JSON.parse(settings.body).resource, resource).toBe(resource)
    }
  })

  it('writes every given member under its RFC 9728 §2 name and leaves out the rest (§3.2)', () => {
    const settings = resolved({
      resource: 'https://api.example.com',
      authorizationServers: [
        'https://as.example.com',
        'https://as.example.com',
        'https://other.example/tenant',
      ],
      scopesSupported: ['read', 'write'],
      resourceName: 'Things',
      resourceDocumentation: 'https://api.example.com/docs',
      resourcePolicyUri: 'https://api.example.com/policy',
      resourceTosUri: 'https://api.example.com/tos',
      jwksUri: 'https://api.example.com/jwks',
      resourceSigningAlgValuesSupported: ['ES256'],
      authorizationDetailsTypesSupported: ['payment_initiation'],
      maxAgeSec: 60,
    })
    expect(JSON.parse(settings.body)).toEqual({
      resource: 'https://api.example.com',
      authorization_servers: ['https://as.example.com', 'https://other.example/tenant'],
      jwks_uri: 'https://api.example.com/jwks',
      scopes_supported: ['read', 'write'],
      bearer_methods_supported: ['header'],
      resource_signing_alg_values_supported: ['ES256'],
      resource_name: 'Things',
      resource_documentation: 'https://api.example.com/docs',
      resource_policy_uri: 'https://api.example.com/policy',
      resource_tos_uri: 'https://api.example.com/tos',
      authorization_details_types_supported: ['payment_initiation'],
    })
    expect(settings.headers).toEqual({
      'Content-Type': 'application/json',
      'Cache-Control': 'public, max-age=60',
    })

    const minimal = resolved({ resource: 'https://api.example.com', scopesSupported: [], maxAgeSec: 0 })
    expect(JSON.parse(minimal.body)).toEqual({
      resource: 'https://api.example.com',
      authorization_servers: AS,
      bearer_methods_supported: ['header'],
    })
    expect(minimal.headers['Cache-Control']).toBe('no-cache')
  })

  it('takes jwksUri by the transport rule of every other URL: https, or http to a loopback host', () => {
    for (const jwksUri of [
      'https://api.example.com/jwks',
      'http://127.0.0.1:8080/jwks',
      'http://localhost/jwks',
    ]) {
      const settings = resolved({ resource: 'http://127.0.0.1:8080', jwksUri })
      expect(JSON.parse(settings.body).jwks_uri, jwksUri).toBe(jwksUri)
    }
  })

  it('refuses a configuration that would publish a wrong or unsafe document', () => {
    const bad: [unknown, string][] = [
      ['https://api.example.com', 'must be an object'],
      [{ resource: 'https://api.example.com' }, 'authorizationServers must list at least one issuer URL'],
      [{ resource: 'https://api.example.com', authorizationServers: [] }, 'authorizationServers must list'],
      [{ resource: 'https://api.example.com', authorizationServers: ['as.example.com'] }, 'absolute URL'],
      [
        { resource: 'https://api.example.com', authorizationServers: ['http://as.example.com'] },
        'authorizationServers must be an https URL',
      ],
      [{ resource: '', authorizationServers: AS }, 'resource must be a non-empty URL string'],
      [{ resource: ' https://api.example.com', authorizationServers: AS }, 'non-empty URL string'],
      [{ resource: 'api.example.com/things', authorizationServers: AS }, 'resource must be an absolute URL'],
      [{ resource: 'http://api.example.com', authorizationServers: AS }, 'resource must be an https URL'],
      [{ resource: 'ftp://api.example.com', authorizationServers: AS }, 'resource must be an https URL'],
      [
        { resource: 'https://api.example.com/#', authorizationServers: AS },
        'resource must not have a fragment',
      ],
      [{ resource: 'https://api.example.com/x?tenant=1', authorizationServers: AS }, 'must not have a query'],
      [{ resource: 'https://api.example.com/x?', authorizationServers: AS }, 'must not have a query'],
      [
        { resource: 'https://user:pw@api.example.com', authorizationServers: AS },
        'must not carry credentials',
      ],
      [{ resource: 'https://api.example.com', authorizationServers: AS, scopesSupported: 'read' }, 'array'],
      [
        { resource: 'https://api.example.com', authorizationServers: AS, scopesSupported: ['a b'] },
        'RFC 6749 scope-token',
      ],
      [
        {
          resource: 'https://api.example.com',
          authorizationServers: AS,
          resourceSigningAlgValuesSupported: ['none'],
        },
        'other than "none"',
      ],
      [{ resource: 'https://api.example.com', authorizationServers: AS, resourceName: ' ' }, 'resourceName'],
      [
        { resource: 'https://api.example.com', authorizationServers: AS, resourceDocumentation: 'docs' },
        'resourceDocumentation must be an absolute URL',
      ],
      [
        {
          resource: 'https://api.example.com',
          authorizationServers: AS,
          jwksUri: 'http://api.example.com/jwks',
        },
        'jwksUri must be an https URL (http only to a loopback host)',
      ],
      [{ resource: 'https://api.example.com', authorizationServers: AS, maxAgeSec: -1 }, 'maxAgeSec'],
      [{ resource: 'https://api.example.com', authorizationServers: AS, maxAgeSec: 1.5 }, 'maxAgeSec'],
    ]
    for (const [options, message] of bad) {
      expect(() => resolveResourceMetadata(options), JSON.stringify(options)).toThrow(ConfigurationError)
      expect(() => resolveResourceMetadata(options), JSON.stringify(options)).toThrow(message)
    }
  })
})

describe('isResourceMetadataRequest', () => {
  const settings = resolved({ resource: 'https://api.example.com/things' })

  it('matches GET and HEAD of the document paths, ignoring the query', () => {
    expect(isResourceMetadataRequest(settings, 'GET', '/.well-known/oauth-protected-resource/things')).toBe(
      true,
    )
    expect(isResourceMetadataRequest(settings, 'HEAD', '/.well-known/oauth-protected-resource')).toBe(true)
    expect(isResourceMetadataRequest(settings, 'GET', '/.well-known/oauth-protected-resource?x=1')).toBe(true)
  })

  it('matches nothing else', () => {
    const no = [
      [settings, 'POST', '/.well-known/oauth-protected-resource/things'],
      [settings, 'GET', '/.well-known/oauth-protected-resource/things/'],
      [settings, 'GET', '/.well-known/oauth-protected-resource/other'],
      [settings, 'GET', '/things'],
      [settings, 'GET', undefined],
      [settings, undefined, '/.well-known/oauth-protected-resource'],
      [undefined, 'GET', '/.well-known/oauth-protected-resource'],
    ] as const
    for (const [s, method, target] of no) {
      expect(isResourceMetadataRequest(s, method, target), `${method} ${target}`).toBe(false)
    }
  })
})

describe('toWWWAuthenticate with resourceMetadata', () => {
  const url = 'https://api.example.com/.well-known/oauth-protected-resource'

  it('adds resource_metadata last, with and without an error (RFC 9728 §5.1)', () => {
    expect(toWWWAuthenticate(undefined, { resourceMetadata: url })).toBe(`Bearer resource_metadata="${url}"`)
    expect(
      toWWWAuthenticate(new InvalidTokenError('the token has expired'), {
        realm: 'api',
        resourceMetadata: url,
      }),
    ).toBe(
      `Bearer realm="api", error="invalid_token", error_description="the token has expired", resource_metadata="${url}"`,
    )
  })
})

describe('resolveResourceMetadata and DPoP (RFC 9728 §2)', () => {
  const options = { resource: 'https://api.example.com/things', authorizationServers: AS }
  const documentOf = (dpop?: Parameters<typeof resolveResourceMetadata>[1]) =>
    JSON.parse(resolveResourceMetadata(options, dpop)!.body) as Record<string, unknown>

  it('advertises the proof algorithms when DPoP is accepted, and that it is required when it is', () => {
    expect(documentOf({ mode: 'allowed', algorithms: ['ES256', 'EdDSA'] })).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
    })
    expect(documentOf({ mode: 'allowed', algorithms: ['ES256'] })).not.toHaveProperty(
      'dpop_bound_access_tokens_required',
    )
    expect(documentOf({ mode: 'required', algorithms: ['ES256'] })).toMatchObject({
      dpop_signing_alg_values_supported: ['ES256'],
      dpop_bound_access_tokens_required: true,
    })
  })

  it('says nothing of DPoP when it is disabled or the verifier does not say', () => {
    for (const document of [documentOf(), documentOf({ mode: 'disabled', algorithms: [] })]) {
      expect(Object.keys(document).filter((k) => k.startsWith('dpop'))).toEqual([])
    }
  })
})
