import { describe, expect, it } from 'vitest'
import { isLoopbackHostname, isSecureTransport } from '../src/transport-security.js'

describe('isLoopbackHostname', () => {
  it('knows localhost, 127.0.0.0/8 and ::1', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '127.255.255.255', '[::1]', '::1']) {
      expect(isLoopbackHostname(host), host).toBe(true)
    }
  })

  it('refuses every other host, including look-alikes', () => {
    for (const host of [
      'example.com',
      '10.0.0.1',
      '128.0.0.1',
      '127.0.0.1.nip.io',
      'localhost.example.com',
      '127.0.0.256',
      '[::2]',
      '0.0.0.0',
      '',
    ]) {
      expect(isLoopbackHostname(host), host).toBe(false)
    }
  })
})

describe('isSecureTransport', () => {
  it('accepts https anywhere and http on loopback only', () => {
    expect(isSecureTransport(new URL('https://as.example.com/token'))).toBe(true)
    expect(isSecureTransport(new URL('http://127.0.0.1:8080/token'))).toBe(true)
    expect(isSecureTransport(new URL('http://[::1]:8080/'))).toBe(true)
    expect(isSecureTransport(new URL('http://localhost/'))).toBe(true)
    // WHATWG URL canonicalises other IPv4 spellings, so they cannot slip past.
    expect(isSecureTransport(new URL('http://127.1/'))).toBe(true)
    expect(isSecureTransport(new URL('http://2130706433/'))).toBe(true)
  })

  it('refuses http elsewhere and other schemes', () => {
    expect(isSecureTransport(new URL('http://as.example.com/token'))).toBe(false)
    expect(isSecureTransport(new URL('http://127.0.0.1.example.com/'))).toBe(false)
    expect(isSecureTransport(new URL('ftp://127.0.0.1/'))).toBe(false)
    expect(isSecureTransport(new URL('ws://127.0.0.1/'))).toBe(false)
  })
})
