import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { createAuthorizationServer } from '@oauth-m2m/server'
import { exportJWK, generateKeyPair } from 'jose'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: private-key-jwt', () => {
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  it('gets a server-signed token with the registered key, and is refused with any other key', async () => {
    const outcome = await main()

    expect(outcome.tokenClientId).toBe('ledger-service')
    expect(outcome.unknownKeyError).toBe('invalid_client')
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('runs as a script: prints what happened and exits 0 on its own', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/private-key-jwt/src/main.ts'],
      { cwd: root, timeout: 50_000, env: { ...process.env, ISSUER: '' } },
    )

    expect(stdout).toContain('registered ledger-service with public key ledger-2026-01')
    expect(stdout).toContain('registered key: got a token for client_id ledger-service, scope "ledger:read"')
    expect(stdout).toContain('unregistered key: refused with invalid_client')
    expect(stdout).not.toContain('"d":')
  })

  it('uses the authorization server, client id and private key named by the environment', async () => {
    const { privateKey, publicKey } = await generateKeyPair('EdDSA', { extractable: true })
    const server = await createAuthorizationServer({
      clients: [
        {
          client_id: 'env-client',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [{ ...(await exportJWK(publicKey)), kid: 'env-key' }] },
          scope: 'ledger:read',
        },
      ],
    })
    const { url, close } = await server.listen({ port: 0, host: '127.0.0.1' })
    vi.stubEnv('ISSUER', url)
    vi.stubEnv('CLIENT_ID', 'env-client')
    vi.stubEnv('PRIVATE_KEY_JWK', JSON.stringify({ ...(await exportJWK(privateKey)), kid: 'env-key' }))
    try {
      const outcome = await main()

      expect(outcome.tokenClientId).toBe('env-client')
      expect(outcome.unknownKeyError).toBe('invalid_client')
    } finally {
      await close()
    }
  })
})
