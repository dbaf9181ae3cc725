import { encodeForm, formUrlDecode, parseForm } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'

describe('form encoding', () => {
  it('repeats names for array values and leaves out undefined', () => {
    expect(
      encodeForm({
        grant_type: 'client_credentials',
        resource: ['https://a/', 'https://b/'],
        scope: undefined,
      }),
    ).toBe('grant_type=client_credentials&resource=https%3A%2F%2Fa%2F&resource=https%3A%2F%2Fb%2F')
  })

  it('parses every value of every name, so callers can refuse or accept repeats', () => {
    const form = parseForm('a=1&b=x+y&a=2&c=&d')
    expect(form && Object.fromEntries(form)).toEqual({ a: ['1', '2'], b: ['x y'], c: [''], d: [''] })
  })

  it('round-trips what it encodes', () => {
    const params = { scope: 'read:a write:b', x: "' %&+:=é" }
    expect(Object.fromEntries(parseForm(encodeForm(params))!)).toEqual({
      scope: ['read:a write:b'],
      x: ["' %&+:=é"],
    })
  })

  it('reports malformed percent-encoding as undefined instead of guessing', () => {
    expect(parseForm('a=%zz')).toBeUndefined()
    expect(parseForm('%E0%A4%A=1')).toBeUndefined()
    expect(formUrlDecode('100%')).toBeUndefined()
  })
})
