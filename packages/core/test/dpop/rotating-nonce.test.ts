import { RotatingNonce } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'

const SECRET = 'a shared secret of at least 32 bytes!'

describe('RotatingNonce (RFC 9449 §8, §9)', () => {
  it('gives one nonce per window and accepts it in that window and the next only', () => {
    let nowMs = 1_800_000_000_000
    const nonces = new RotatingNonce({ secret: SECRET, windowSec: 60, now: () => nowMs })
    const first = nonces.current()
    expect(first).toMatch(/^[A-Za-z0-9_-]{22}$/)
    nowMs += 59_000
    expect(nonces.current()).toBe(first)
    nowMs += 60_000
    const second = nonces.current()
    expect(second).not.toBe(first)
    expect(nonces.accepts(first)).toBe(true)
    expect(nonces.accepts(second)).toBe(true)
    nowMs += 60_000
    expect(nonces.accepts(first)).toBe(false)
    expect(nonces.accepts(second)).toBe(true)
  })

  it('agrees between instances with the same secret, not with another secret or context', () => {
    const now = () => 1_800_000_000_000
    const a = new RotatingNonce({ secret: SECRET, now })
    const b = new RotatingNonce({ secret: Buffer.from(SECRET), now })
    expect(b.accepts(a.current())).toBe(true)
    expect(new RotatingNonce({ secret: `${SECRET}x`, now }).accepts(a.current())).toBe(false)
    expect(new RotatingNonce({ secret: SECRET, now, context: 'token' }).accepts(a.current())).toBe(false)
    expect(new RotatingNonce({ now }).accepts(a.current())).toBe(false)
  })

  it('refuses what is not a current nonce', () => {
    const nonces = new RotatingNonce()
    for (const value of [undefined, '', 'nonce', `${nonces.current()}x`])
      expect(nonces.accepts(value)).toBe(false)
  })

  it('refuses a short secret and a bad window with a TypeError', () => {
    expect(() => new RotatingNonce({ secret: 'short' })).toThrow(TypeError)
    expect(() => new RotatingNonce({ secret: new Uint8Array(31) })).toThrow(TypeError)
    for (const windowSec of [0, -1, Number.NaN])
      expect(() => new RotatingNonce({ windowSec })).toThrow(TypeError)
  })
})
