/**
 * The `dpop` option: its defaults, and a bad value refused at start naming the field (and never
 * quoting a nonce secret). The beforeSign hook and a DPoP-bound token's `cnf`.
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { describe, expect, it, vi } from 'vitest'
import { resolveConfig } from '../src/resolve-config.js'
import { jwtClaims, proof, proofKey } from './dpop-proofs.js'
import { basic, expectOAuthError, postForm, startServer } from './test-server.js'

const CLIENT = { client_id: 'svc', client_secret: 'svc-secret' }

function refused(dpop: unknown): Promise<unknown> {
  return createAuthorizationServer({ clients: [CLIENT], dpop: dpop as never })
}

describe('the dpop option', () => {
  it('defaults to allowed, every asymmetric algorithm, a 60 s window and no nonces', () => {
    const { dpop } = resolveConfig({ clients: [] })
    expect(dpop).toEqual({
      mode: 'allowed',
      algorithms: [
        'ES256',
        'ES384',
        'ES512',
        'EdDSA',
        'Ed25519',
        'PS256',
        'PS384',
        'PS512',
        'RS256',
        'RS384',
        'RS512',
      ],
      iatWindowSec: 60,
      nonce: undefined,
    })
    expect(resolveConfig({ clients: [], dpop: 'required' }).dpop.mode).toBe('required')
    expect(resolveConfig({ clients: [], dpop: { nonce: true } }).dpop.nonce).toEqual({
      secret: undefined,
      windowSec: 60,
    })
  })

  it('is settable from the JSON config file', () => {
    const json = JSON.parse(
      '{"clients":[],"dpop":{"mode":"required","algorithms":["ES256"],"iatWindowSec":30,"nonce":{"secret":"0123456789abcdef0123456789abcdef","windowSec":120}}}',
    )
    expect(resolveConfig(json).dpop).toEqual({
      mode: 'required',
      algorithms: ['ES256'],
      iatWindowSec: 30,
      nonce: { secret: '0123456789abcdef0123456789abcdef', windowSec: 120 },
    })
  })

  it.each([
    ['sometimes', 'dpop must be "allowed", "required" or "disabled"'],
    [{ mode: 'sometimes' }, 'dpop.mode must be'],
    [42, 'dpop must be'],
    [{ required: true }, 'dpop.required is not a known option'],
    [{ algorithms: [] }, 'dpop.algorithms must be a non-empty array'],
    [{ algorithms: ['HS256'] }, 'dpop.algorithms[0] must be an asymmetric algorithm'],
    [{ algorithms: ['ES256', 'none'] }, 'dpop.algorithms[1] must be an asymmetric algorithm'],
    [{ iatWindowSec: -1 }, 'dpop.iatWindowSec must be a non-negative integer'],
    [{ nonce: 'yes' }, 'dpop.nonce must be a boolean or'],
    [{ nonce: { windowSec: 0 } }, 'dpop.nonce.windowSec must be a positive integer'],
    [{ nonce: { rotate: true } }, 'dpop.nonce.rotate is not a known option'],
  ])('refuses %j', async (dpop, message) => {
    await expect(refused(dpop)).rejects.toThrow(ConfigurationError)
    await expect(refused(dpop)).rejects.toThrow(message)
  })

  it('refuses a short nonce secret without quoting it', async () => {
    const error = await refused({ nonce: { secret: 'short-secret-123' } }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigurationError)
    expect((error as Error).message).toContain('dpop.nonce.secret must be a string of at least 32 bytes')
    expect(JSON.stringify(error) + (error as Error).message).not.toContain('short-secret-123')
  })
})

describe('beforeSign and a DPoP-bound token', () => {
  async function setUp(beforeSign: (context: { claims: Readonly<Record<string, unknown>> }) => unknown) {
    const onInternalError = vi.fn()
    const { url } = await startServer({
      clients: [CLIENT],
      resources: [{ resource: 'https://opaque.example.test', tokenFormat: 'opaque' }],
      beforeSign: beforeSign as never,
      onInternalError,
    })
    const key = await proofKey()
    const tokenEndpoint = `${url}/token`
    const token = async (extra: Record<string, string> = {}) =>
      postForm(
        tokenEndpoint,
        { grant_type: 'client_credentials', ...extra },
        { ...basic('svc', 'svc-secret'), dpop: await proof(key, { htu: tokenEndpoint }) },
      )
    return { url, key, token, onInternalError }
  }

  it('sees cnf.jkt among the claims, and may add members to cnf', async () => {
    const seen: unknown[] = []
    const { key, token } = await setUp(({ claims }) => {
      seen.push(claims.cnf)
      return { cnf: { ...(claims.cnf as object), 'x5t#S256': 'added' }, extra: 1 }
    })
    const answer = await token()
    expect(answer.status).toBe(200)
    expect(answer.json.token_type).toBe('DPoP')
    expect(seen).toEqual([{ jkt: key.jkt }])
    expect(jwtClaims(answer.json.access_token)).toMatchObject({
      cnf: { jkt: key.jkt, 'x5t#S256': 'added' },
      extra: 1,
    })
  })

  it.each([
    ['removes cnf', () => ({ cnf: undefined })],
    ['replaces cnf without jkt', () => ({ cnf: { 'x5t#S256': 'other' } })],
    ['changes cnf.jkt', () => ({ cnf: { jkt: 'another-key' } })],
  ])('fails the request with 500 when it %s, for a JWT and an opaque token', async (_, hook) => {
    const { token, onInternalError } = await setUp(hook)
    expectOAuthError(await token(), 500, 'server_error')
    expectOAuthError(await token({ resource: 'https://opaque.example.test' }), 500, 'server_error')
    expect(onInternalError).toHaveBeenCalledTimes(2)
    expect(String(onInternalError.mock.calls[0]![0])).toContain('cnf.jkt of a DPoP-bound token')
  })

  it('may add cnf to a Bearer token: it is its own to shape', async () => {
    const { url } = await startServer({ clients: [CLIENT], beforeSign: () => ({ cnf: { jkt: 'made-up' } }) })
    const answer = await postForm(
      `${url}/token`,
      { grant_type: 'client_credentials' },
      basic('svc', 'svc-secret'),
    )
    expect(answer.json.token_type).toBe('Bearer')
    expect(jwtClaims(answer.json.access_token).cnf).toEqual({ jkt: 'made-up' })
  })
})
