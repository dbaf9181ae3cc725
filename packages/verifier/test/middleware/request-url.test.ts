import { ConfigurationError, InvalidRequestError } from '@oauth-m2m/core'
import { describe, expect, it } from 'vitest'
import { dpopRequestUrl, originOf, resolvePublicBaseUrl } from '../../src/middleware/request-url.js'

const own = () => 'http://127.0.0.1:8080'

describe('dpopRequestUrl', () => {
  it('joins the framework origin and the target', () => {
    expect(dpopRequestUrl('/things?x=1', own, undefined)).toBe('http://127.0.0.1:8080/things?x=1')
  })

  it('takes an absolute-form target as it is, or only its path with publicBaseUrl', () => {
    expect(dpopRequestUrl('http://a.example/things', own, undefined)).toBe('http://a.example/things')
    const base = resolvePublicBaseUrl('https://api.example.com/v1')
    expect(dpopRequestUrl('http://internal:9/things?q', own, base)).toBe(
      'https://api.example.com/v1/things?q',
    )
  })

  it('uses publicBaseUrl instead of the origin, which it never reads then', () => {
    const base = resolvePublicBaseUrl('https://api.example.com')
    expect(
      dpopRequestUrl(
        '/things',
        () => {
          throw new Error('read')
        },
        base,
      ),
    ).toBe('https://api.example.com/things')
  })

  it('refuses with invalid_request what cannot be rebuilt', () => {
    for (const [target, origin] of [
      ['*', own],
      [undefined, own],
      ['things', own],
      ['/things', () => undefined],
      ['/th ings', own],
      ['http://a b/', own],
    ] as const) {
      expect(() => dpopRequestUrl(target, origin, undefined), String(target)).toThrow(InvalidRequestError)
    }
  })
})

describe('originOf', () => {
  it('joins scheme and a Host header that is a host', () => {
    expect(originOf('https', 'api.example.com')).toBe('https://api.example.com')
    expect(originOf('http', '127.0.0.1:8080')).toBe('http://127.0.0.1:8080')
    expect(originOf('http', '[::1]:80')).toBe('http://[::1]:80')
  })

  it('refuses a Host header that would move into the path or the user information', () => {
    for (const host of [
      undefined,
      '',
      'a.example/x',
      'user@a.example',
      'a.example?x',
      'a.example#x',
      'a b',
    ]) {
      expect(originOf('http', host), String(host)).toBeUndefined()
    }
  })
})

describe('resolvePublicBaseUrl', () => {
  it('keeps the origin and the path prefix without trailing slashes', () => {
    expect(resolvePublicBaseUrl('https://API.example.com:443/')).toEqual({
      origin: 'https://api.example.com',
      pathPrefix: '',
    })
    expect(resolvePublicBaseUrl(new URL('https://example.com/api/'))).toEqual({
      origin: 'https://example.com',
      pathPrefix: '/api',
    })
    expect(resolvePublicBaseUrl(undefined)).toBeUndefined()
  })

  it('refuses what is not an absolute http(s) URL without query, fragment or user information', () => {
    for (const value of [
      '/api',
      'ftp://x/',
      'https://x/?a',
      'https://x/#a',
      'https://u@x/',
      'https://x/?',
      7,
    ]) {
      expect(() => resolvePublicBaseUrl(value as string), String(value)).toThrow(ConfigurationError)
    }
  })
})
