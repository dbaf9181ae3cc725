import { normalizeHtu } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'

describe('normalizeHtu (RFC 9449 §4.3, RFC 3986 §6.2.2, §6.2.3)', () => {
  it('drops query and fragment', () => {
    expect(normalizeHtu('https://rs.example/things?a=1&b=2#frag')).toBe('https://rs.example/things')
  })

  it('lower-cases scheme and host, removes the default port, gives an empty path as /', () => {
    expect(normalizeHtu('HTTPS://RS.Example:443')).toBe('https://rs.example/')
    expect(normalizeHtu('http://rs.example:80/x')).toBe('http://rs.example/x')
    expect(normalizeHtu('http://rs.example:443/x')).toBe('http://rs.example:443/x')
    expect(normalizeHtu('https://[::1]:8443/x')).toBe('https://[::1]:8443/x')
  })

  it('keeps the path case, resolves dot segments, normalises percent-escapes', () => {
    expect(normalizeHtu('https://rs.example/Things')).toBe('https://rs.example/Things')
    expect(normalizeHtu('https://rs.example/a/./b/../c')).toBe('https://rs.example/a/c')
    expect(normalizeHtu('https://rs.example/a/%2e%2E/c')).toBe('https://rs.example/c')
    expect(normalizeHtu('https://rs.example/%7euser/%41')).toBe('https://rs.example/~user/A')
    expect(normalizeHtu('https://rs.example/a%2fb%3a')).toBe('https://rs.example/a%2Fb%3A')
  })

  it('drops the query and fragment before checking characters: WHATWG leaves { } | ^ raw there', () => {
    expect(normalizeHtu('https://rs.example/things?filter={"a":1}')).toBe('https://rs.example/things')
    expect(normalizeHtu('https://rs.example/things?a=b|c^d#{x}')).toBe('https://rs.example/things')
    expect(normalizeHtu(new URL('https://rs.example/things?filter={"a":1}|^'))).toBe(
      'https://rs.example/things',
    )
    expect(normalizeHtu('https://rs.example?a={}')).toBe('https://rs.example/')
  })

  it('percent-encodes the | and ^ that WHATWG URLs leave raw in the path, so both spellings match', () => {
    const raw = new URL('https://rs.example/a|b^c')
    expect(raw.pathname).toBe('/a|b^c') // what fetch and undici send
    expect(normalizeHtu(raw)).toBe('https://rs.example/a%7Cb%5Ec')
    expect(normalizeHtu('https://rs.example/a|b^c')).toBe('https://rs.example/a%7Cb%5Ec')
    expect(normalizeHtu('https://rs.example/a%7cb%5ec')).toBe('https://rs.example/a%7Cb%5Ec')
  })

  it('accepts URL objects', () => {
    expect(normalizeHtu(new URL('https://RS.example/x?y'))).toBe('https://rs.example/x')
  })

  it('gives undefined for what is not an absolute http(s) URI', () => {
    for (const value of [
      '',
      '/things',
      'rs.example/things',
      'ftp://rs.example/',
      'urn:x:y',
      'https://user:pw@rs.example/',
      'https://rs.example/a b',
      'https://rs.example/a{b',
      'https://rs.example/a"b?c',
      'https://rs|example/',
      'https://rs.example/\ta',
      'https://rs.example\\a',
      'https://bücher.example/',
      ' https://rs.example/',
      'https://rs.example:99999/',
    ]) {
      expect(normalizeHtu(value), JSON.stringify(value)).toBeUndefined()
    }
  })
})
