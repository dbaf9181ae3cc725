import { describe, expect, it } from 'vitest'
import { oauthError } from '../src/http-response.js'

describe('oauthError', () => {
  it('reduces a description to the RFC 6749 section 5.2 set by core rule: " becomes \', the rest outside is dropped', () => {
    const answer = oauthError(400, 'invalid_request', 'the "x" param\\eter\n is bad: caf\u00e9')
    expect(JSON.parse(answer.body)).toEqual({
      error: 'invalid_request',
      error_description: "the 'x' parameter is bad: caf",
    })
    expect(answer.headers).toMatchObject({ 'cache-control': 'no-store', pragma: 'no-cache' })
  })
})
