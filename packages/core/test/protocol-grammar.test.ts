import { describe, expect, it } from 'vitest'
import {
  isAbsoluteUriWithoutFragment,
  isB64Token,
  isErrorDescriptionText,
  isScopeToken,
  parseScopeParameter,
  toErrorDescription,
} from '../src/protocol-grammar.js'

describe('isScopeToken (RFC 6749 §3.3)', () => {
  it('accepts printable ASCII other than space, " and \\', () => {
    for (const token of [
      'read',
      'inventory:read',
      'https://api.example.com/.default',
      '!#$%&()*+,-./:;<=>?@[]^_`{|}~',
    ]) {
      expect(isScopeToken(token), token).toBe(true)
    }
  })

  it('refuses the empty string, space, ", \\, control characters and non-ASCII', () => {
    for (const token of ['', 'a b', 'a"b', 'a\\b', 'a\tb', 'a\nb', 'a\x7fb', 'café', 'a\u00a0b']) {
      expect(isScopeToken(token), JSON.stringify(token)).toBe(false)
    }
  })
})

describe('parseScopeParameter (RFC 6749 §3.3)', () => {
  it('splits on single spaces and keeps the order', () => {
    expect(parseScopeParameter('b a c')).toEqual(['b', 'a', 'c'])
    expect(parseScopeParameter('read')).toEqual(['read'])
  })

  it('refuses empty values and doubled, leading or trailing spaces', () => {
    for (const value of ['', ' ', 'a  b', ' a', 'a ', 'a\tb', 'a "b"']) {
      expect(parseScopeParameter(value), JSON.stringify(value)).toBeUndefined()
    }
  })
})

describe('toErrorDescription (RFC 6749 §5.2, RFC 6750 §3)', () => {
  it('keeps the allowed set as is', () => {
    const allowed =
      " !#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[]^_`abcdefghijklmnopqrstuvwxyz{|}~"
    expect(toErrorDescription(allowed)).toBe(allowed)
  })

  it('turns " into \' and drops \\, control characters and non-ASCII', () => {
    expect(toErrorDescription('say "no"\\\r\nnow é\u2028')).toBe("say 'no'now ")
  })

  it('cuts to the given length', () => {
    expect(toErrorDescription('x'.repeat(300), 200)).toHaveLength(200)
  })
})

describe('isAbsoluteUriWithoutFragment (RFC 8707 §2, RFC 3986 §4.3)', () => {
  it('accepts absolute URIs of any scheme', () => {
    for (const uri of [
      'https://api.example.com',
      'https://api.example.com/v1?x=1',
      'urn:example:api',
      'http://127.0.0.1:8080/',
    ]) {
      expect(isAbsoluteUriWithoutFragment(uri), uri).toBe(true)
    }
  })

  it('refuses fragments, relative references and non-URIs', () => {
    for (const uri of [
      'https://api.example.com/#x',
      'https://api.example.com#',
      '/relative',
      'api.example.com',
      '',
      '1http://x',
      'http://[::1',
    ]) {
      expect(isAbsoluteUriWithoutFragment(uri), uri).toBe(false)
    }
  })
})

describe('isErrorDescriptionText', () => {
  it('accepts non-empty printable ASCII without " or \\', () => {
    expect(isErrorDescriptionText('oauth-m2m realm (test) #1')).toBe(true)
    for (const value of ['', 'a"b', 'a\\b', 'a\nb', 'é', 'a\x7fb']) {
      expect(isErrorDescriptionText(value), JSON.stringify(value)).toBe(false)
    }
  })
})

describe('isB64Token (RFC 6750 §2.1)', () => {
  it('accepts the token68-like alphabet with trailing padding only', () => {
    for (const token of ['abc', 'eyJhbGciOiJFUzI1NiJ9.e30.sig', 'A-Z_a~z+/09', 'abc==']) {
      expect(isB64Token(token), token).toBe(true)
    }
    for (const token of ['', 'a b', 'a=b', '=abc', 'a,b', 'a"b', 'tok\u00e9n']) {
      expect(isB64Token(token), token).toBe(false)
    }
  })
})
