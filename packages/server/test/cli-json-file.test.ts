import { describe, expect, it } from 'vitest'
import { jsonSyntaxError } from '../src/cli-json-file.js'

const SAMPLE = `{
  "issuer": "https://as.example.com",
  "clients": [
    { "client_id": "a", "client_secret": "s\\u00e9cret\\n", "scope": "read write" },
    { "client_id": "b", "token_endpoint_auth_method": "private_key_jwt", "jwks": { "keys": [] } }
  ],
  "accessTokenLifetimeSec": 3600, "rateLimit": false, "accessTokenTyp": null, "n": -1.5e+3
}
`

function parses(text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

describe('jsonSyntaxError', () => {
  it('finds nothing wrong with JSON', () => {
    for (const text of [SAMPLE, '1', ' "x" ', '[]', '{}', '[[[]]]', '{"a":{"b":[1,{"c":null}]}}']) {
      expect(jsonSyntaxError(text)).toBeUndefined()
    }
  })

  it('gives the line, the column and what was expected, never the text itself', () => {
    expect(jsonSyntaxError('{\n  "a": 1,\n}')).toEqual({
      offset: 12,
      line: 3,
      column: 1,
      problem: 'expected a property name in double quotes',
    })
    expect(jsonSyntaxError("{\n  'client_secret': 'hunter2'\n}")).toMatchObject({
      line: 2,
      column: 3,
      problem: 'expected a property name in double quotes',
    })
    expect(jsonSyntaxError('{"a": "hunter2" "b": 1}')).toMatchObject({
      column: 17,
      problem: 'expected "," or "}"',
    })
    expect(jsonSyntaxError('{"a": tru}')).toMatchObject({ column: 7 })
    expect(jsonSyntaxError('{"a": "x\ny"}')).toMatchObject({ line: 1, column: 9 })
    expect(jsonSyntaxError('[1, 2')).toMatchObject({ problem: 'unexpected end of file, expected "," or "]"' })
    expect(jsonSyntaxError('{} {}')).toMatchObject({
      column: 4,
      problem: 'more text after the end of the JSON value',
    })
    expect(jsonSyntaxError('')).toMatchObject({ line: 1, column: 1 })
    expect(jsonSyntaxError('{"a": 01}')).toMatchObject({ column: 8 })
  })

  it('agrees with JSON.parse on what is JSON, over mutations of a config file', () => {
    // A deterministic generator: the same mutations on every run.
    let seed = 42
    const random = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648
      return seed % n
    }
    const pieces = [
      '{',
      '}',
      '[',
      ']',
      ',',
      ':',
      '"',
      '\\',
      '1',
      '-',
      '.',
      'e',
      'true',
      ' ',
      '\n',
      'x',
      '\u0001',
    ]
    for (let round = 0; round < 3000; round++) {
      const at = random(SAMPLE.length)
      const text =
        random(2) === 0
          ? SAMPLE.slice(0, at) + pieces[random(pieces.length)] + SAMPLE.slice(at)
          : SAMPLE.slice(0, at) + SAMPLE.slice(at + 1 + random(3))
      expect(jsonSyntaxError(text) === undefined, JSON.stringify(text)).toBe(parses(text))
    }
  })

  it('takes deep nesting without running out of stack', () => {
    const deep = `${'['.repeat(200_000)}${']'.repeat(200_000)}`
    expect(jsonSyntaxError(deep)).toBeUndefined()
    expect(jsonSyntaxError(`${deep}]`)).toMatchObject({ offset: 400_000 })
  })
})
