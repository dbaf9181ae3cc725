import { describe, expect, it } from 'vitest'
import { ClientKeyAttributes } from '../src/client-key.js'
import { errorType, tokenErrorType } from '../src/error-type.js'
import { serverAttributes } from '../src/server-endpoint.js'

describe('serverAttributes', () => {
  it('keeps host and port only, with the scheme default when the URL names none', () => {
    expect(serverAttributes('https://as.example.com/oauth2/token?tenant=a')).toEqual({
      'server.address': 'as.example.com',
      'server.port': 443,
    })
    expect(serverAttributes('http://127.0.0.1:8080/token')).toEqual({
      'server.address': '127.0.0.1',
      'server.port': 8080,
    })
    expect(serverAttributes('https://[::1]:9443/jwks')).toEqual({
      'server.address': '::1',
      'server.port': 9443,
    })
  })

  it('gives nothing for what is not an absolute URL with a host', () => {
    expect(serverAttributes('(from discovery)')).toEqual({})
    expect(serverAttributes('issuer:https://as.example.com')).toEqual({})
  })
})

describe('ClientKeyAttributes', () => {
  const keys = new ClientKeyAttributes()

  it('gives nothing for a key of another shape, rather than a guess', () => {
    expect(keys.of('not json')).toEqual({})
    expect(keys.of('{"a":1}')).toEqual({})
    expect(keys.of('[1,2]')).toEqual({})
  })

  it('reads the client id and the server of a token endpoint or a discovering issuer', () => {
    expect(keys.of('["https://as.example.com/token","svc-a",[["read"],[],[]]]')).toEqual({
      'oauth_m2m.client.id': 'svc-a',
      'server.address': 'as.example.com',
      'server.port': 443,
    })
    expect(keys.of('["issuer:https://as.example.com","svc-b",{"jkt":"abc"},[[],[],[]]]')).toEqual({
      'oauth_m2m.client.id': 'svc-b',
      'server.address': 'as.example.com',
      'server.port': 443,
    })
  })
})

describe('errorType', () => {
  it("is the error's code, else its name, bounded", () => {
    expect(errorType({ name: 'TimeoutError', code: 'ERR_TIMEOUT', message: 'timed out after 10 s' })).toBe(
      'ERR_TIMEOUT',
    )
    expect(errorType({ name: 'TypeError', code: undefined, message: 'x' })).toBe('TypeError')
    expect(errorType(undefined)).toBe('_OTHER')
    expect(errorType({ name: 'E'.repeat(500), code: undefined, message: '' })).toHaveLength(64)
  })
})

describe('tokenErrorType', () => {
  const summary = {
    name: 'OAuthResponseError',
    code: 'ERR_OAUTH_RESPONSE',
    message: 'authorization server answered 401',
  }

  it('is the OAuth error the server answered, bounded, else the error code', () => {
    expect(tokenErrorType('invalid_client', summary)).toBe('invalid_client')
    expect(tokenErrorType('x'.repeat(500), summary)).toHaveLength(64)
    expect(tokenErrorType(undefined, summary)).toBe('ERR_OAUTH_RESPONSE')
    expect(tokenErrorType('', summary)).toBe('ERR_OAUTH_RESPONSE')
  })
})
