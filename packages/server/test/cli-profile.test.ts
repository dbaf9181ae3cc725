/**
 * `m2m-server --profile fapi2`: the FAPI 2.0 profile from the command line, over a config file.
 */
import { exportJWK, generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'
import { listeningUrl, runCli, tempFile } from './cli-harness.js'

const run = runCli
const listening = listeningUrl
const tempConfig = (config: unknown) => tempFile(config)

describe('m2m-server --profile fapi2', () => {
  it('serves a private_key_jwt config under the profile, advertising only what it allows', async () => {
    const { publicKey } = await generateKeyPair('ES256', { extractable: true })
    const file = await tempConfig({
      clients: [
        {
          client_id: 'fapi',
          token_endpoint_auth_method: 'private_key_jwt',
          jwks: { keys: [await exportJWK(publicKey)] },
        },
      ],
    })
    const proc = run(['--config', file, '--profile', 'fapi2'])
    const url = await listening(proc)
    const meta = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as Record<
      string,
      unknown
    >
    expect(meta.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt'])
    expect(meta.token_endpoint_auth_signing_alg_values_supported).toEqual(['PS256', 'ES256', 'EdDSA'])
    proc.child.kill('SIGTERM')
    expect(await proc.exit).toBe(0)
  })

  it('refuses a config with a shared-secret client, naming it, and does not listen', async () => {
    const file = await tempConfig({
      clients: [{ client_id: 'legacy', client_secret: 'legacy-secret-value' }],
    })
    const proc = run(['--config', file, '--profile', 'fapi2'])
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toContain('clients[0].token_endpoint_auth_method (client "legacy")')
    expect(proc.stderr()).not.toContain('legacy-secret-value')
    expect(proc.stdout()).not.toContain('listening on')
  })

  it('needs --config: the demo client has a shared secret', async () => {
    const proc = run(['--profile', 'fapi2'])
    expect(await proc.exit).toBe(2)
    expect(proc.stderr()).toContain('--profile fapi2 needs --config')
    expect(proc.stdout()).not.toContain('demo client_secret')
  })

  it('refuses an unknown profile name', async () => {
    const file = await tempConfig({ clients: [] })
    const proc = run(['--config', file, '--profile', 'fapi1'])
    expect(await proc.exit).toBe(1)
    expect(proc.stderr()).toContain('profile must be "fapi2"')
  })
})
