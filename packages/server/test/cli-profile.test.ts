/**
 * `m2m-server --profile fapi2`: the FAPI 2.0 profile from the command line, over a config file.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exportJWK, generateKeyPair } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGTERM')
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

function run(args: string[]) {
  const child = spawn(process.execPath, ['--conditions=@oauth-m2m/source', '--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  return { child, stdout: () => out, stderr: () => err, exit }
}

function listening(proc: ReturnType<typeof run>): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const match = /listening on (\S+)\n/.exec(proc.stdout())
      if (match) resolve(match[1]!)
    }
    proc.child.stdout?.on('data', check)
    proc.exit.then((code) => reject(new Error(`exited with ${code}: ${proc.stderr()}`)))
  })
}

async function tempConfig(config: unknown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'm2m-server-cli-'))
  dirs.push(dir)
  const file = join(dir, 'config.json')
  await writeFile(file, JSON.stringify(config))
  return file
}

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
