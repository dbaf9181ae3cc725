import { decodeBasicCredentials, encodeBasicCredentials, formUrlEncode } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'

describe('Basic client credentials (RFC 6749 §2.3.1)', () => {
  it('form-urlencodes id and secret before base64', () => {
    const header = encodeBasicCredentials("svc ' %&+:", "s3 ' %&+:/")
    const raw = Buffer.from(header.slice('Basic '.length), 'base64').toString('utf8')
    expect(raw).toBe('svc+%27+%25%26%2B%3A:s3+%27+%25%26%2B%3A%2F')
  })

  it('round-trips any id and secret, including non-ASCII', () => {
    for (const [id, secret] of [
      ['a', 'b'],
      ["svc ' %&+:", "s3 ' %&+:/"],
      ['ünïcødé', '密码~!*()'],
    ] as const) {
      expect(decodeBasicCredentials(encodeBasicCredentials(id, secret))).toEqual({
        ok: true,
        clientId: id,
        clientSecret: secret,
      })
    }
  })

  it('encodes exactly like the WHATWG form serializer', () => {
    const value = "a b!'()*~-._%&+=/:é"
    expect(formUrlEncode(value)).toBe(new URLSearchParams({ v: value }).toString().slice(2))
  })

  it.each([
    ['no scheme', 'dXNlcjpwYXNz'],
    ['another scheme', 'Bearer dXNlcjpwYXNz'],
    ['bad base64', 'Basic %%%%'],
    ['base64 with wrong padding', 'Basic dXNlcjpwYXN'],
    ['no colon', `Basic ${Buffer.from('userpass').toString('base64')}`],
    ['empty secret', `Basic ${Buffer.from('user:').toString('base64')}`],
    ['empty id', `Basic ${Buffer.from(':pass').toString('base64')}`],
    ['a stray percent', `Basic ${Buffer.from('user:50%off').toString('base64')}`],
    ['invalid UTF-8', `Basic ${Buffer.from([0x75, 0x3a, 0xff, 0xfe]).toString('base64')}`],
  ])('refuses %s', (_name, header) => {
    const result = decodeBasicCredentials(header)
    expect(result.ok).toBe(false)
  })

  it('accepts a case-insensitive scheme', () => {
    expect(decodeBasicCredentials(`basic ${Buffer.from('a:b').toString('base64')}`)).toMatchObject({
      ok: true,
    })
  })
})
