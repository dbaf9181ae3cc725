import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { inspect } from 'node:util'
import {
  type ClientAuthContext,
  ConfigurationError,
  clientAssertion,
  JWT_BEARER_ASSERTION_TYPE,
} from '@oauth-m2m/core'
import { applyClientAuth } from '@oauth-m2m/core/internal'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'

const context: ClientAuthContext = {
  clientId: 'workload-a',
  endpoint: 'https://as.example/token',
  tokenEndpoint: 'https://as.example/token',
  issuer: 'https://as.example',
}

/** A compact JWT's shape; the strategy forwards it and never looks inside. */
const jwt = (n: number) => `eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ3b3JrbG9hZCJ9${n}.c2lnbmF0dXJl${n}`

async function send(strategy: ReturnType<typeof clientAssertion>) {
  const request = {
    headers: {} as Record<string, string>,
    body: new URLSearchParams({ grant_type: 'client_credentials' }),
  }
  const redactor = await applyClientAuth(strategy, request, context)
  return { request, redactor }
}

describe('clientAssertion', () => {
  it('sends client_id, the RFC 7523 jwt-bearer type and the assertion from a function, asked on every request', async () => {
    let n = 0
    const strategy = clientAssertion(async () => jwt(++n))
    const first = await send(strategy)
    const second = await send(strategy)
    expect(strategy.method).toBe('private_key_jwt')
    expect(Object.fromEntries(first.request.body)).toEqual({
      grant_type: 'client_credentials',
      client_id: 'workload-a',
      client_assertion_type: JWT_BEARER_ASSERTION_TYPE,
      client_assertion: jwt(1),
    })
    expect(first.request.headers).toEqual({})
    expect(second.request.body.get('client_assertion')).toBe(jwt(2))
  })

  it('takes another assertion type (e.g. SPIFFE) when given', async () => {
    const type = 'urn:ietf:params:oauth:client-assertion-type:jwt-spiffe'
    const { request } = await send(clientAssertion(() => jwt(1), { assertionType: type }))
    expect(request.body.get('client_assertion_type')).toBe(type)
  })

  it('marks the assertion as a credential to scrub from server text', async () => {
    const { redactor } = await send(clientAssertion(() => jwt(7)))
    expect(redactor.redact(`bad assertion ${jwt(7)}`)).not.toContain(jwt(7))
  })

  it('refuses an empty or non-JWT assertion at use, never quoting it', async () => {
    for (const value of ['', '   ', 'opaque-token-value', 'a.b', 'a.b.c.d', 'a b.c.d']) {
      const error = await send(clientAssertion(() => value)).catch((e: unknown) => e)
      expect(error, value).toBeInstanceOf(ConfigurationError)
      if (value.trim() !== '') expect(inspect(error)).not.toContain(value)
    }
  })

  it('refuses an unusable source or assertion type at creation', () => {
    for (const source of [undefined, null, 'token', { file: '' }, { path: '/x' }]) {
      expect(() => clientAssertion(source as never), String(source)).toThrow(ConfigurationError)
    }
    expect(() => clientAssertion(() => jwt(1), { assertionType: 'has space' })).toThrow(ConfigurationError)
  })

  describe('from a file (Kubernetes projected tokens)', () => {
    let dir: string
    let file: string
    beforeEach(async () => {
      dir = await mkdtemp(join(tmpdir(), 'client-assertion-'))
      file = join(dir, 'token')
    })
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true })
    })

    it('reads the file, trims its trailing newline, and reads it again once the kubelet rewrites it', async () => {
      await writeFile(file, `${jwt(1)}\n`)
      const strategy = clientAssertion({ file })
      expect((await send(strategy)).request.body.get('client_assertion')).toBe(jwt(1))
      expect((await send(strategy)).request.body.get('client_assertion')).toBe(jwt(1))
      // A rotation writes a new token (of another length here, so the change shows even on
      // file systems with coarse modification times).
      await writeFile(file, `${jwt(12345)}\n`)
      expect((await send(strategy)).request.body.get('client_assertion')).toBe(jwt(12345))
    })

    it('fails with a ConfigurationError naming the path when the file is missing, and recovers once it appears', async () => {
      const strategy = clientAssertion({ file })
      const error = await send(strategy).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ConfigurationError)
      expect((error as Error).message).toContain(file)
      await writeFile(file, jwt(3))
      expect((await send(strategy)).request.body.get('client_assertion')).toBe(jwt(3))
    })
  })
})
