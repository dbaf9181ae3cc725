import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { exportJWK, generateKeyPair } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { basic, postForm, startServer } from './test-server.js'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const IAT = 'initial-access-token-0123456789-abcdefghijklmnop'
const dirs: string[] = []

afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Runs `m2m-server register …` to its end, with `stdin` as its standard input. */
function register(args: string[], stdin = ''): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--conditions=@oauth-m2m/source', '--import', 'tsx', CLI, 'register', ...args],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString()
  })
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  child.stdin.end(stdin)
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })))
}

async function tempFile(name: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'm2m-server-register-'))
  dirs.push(dir)
  const file = join(dir, name)
  await writeFile(file, content)
  return file
}

function startRegistering() {
  return startServer({
    clients: [{ client_id: 'seed', client_secret: 'seed-secret', scope: 'read write' }],
    registration: { initialAccessTokens: [IAT] },
  })
}

describe('m2m-server register', () => {
  it('registers with the token from a file and prints the credentials once as JSON, which then get a token', async () => {
    const { url } = await startRegistering()
    const tokenFile = await tempFile('token', `${IAT}\n`)

    const run = await register([
      '--server',
      url,
      '--token-file',
      tokenFile,
      '--scope',
      'read',
      '--client-name',
      'cli',
    ])

    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    const info = JSON.parse(run.stdout)
    expect(info).toMatchObject({
      scope: 'read',
      client_name: 'cli',
      token_endpoint_auth_method: 'client_secret_basic',
    })
    expect(info.registration_client_uri).toBe(`${url}/register/${info.client_id}`)
    const token = await postForm(
      `${url}/token`,
      { grant_type: 'client_credentials' },
      basic(info.client_id, info.client_secret),
    )
    expect(token.status).toBe(200)
  })

  it('reads the token from stdin with --token-file -, and registers a private_key_jwt client from --jwks-file', async () => {
    const { url } = await startRegistering()
    const { publicKey } = await generateKeyPair('ES256')
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256' }] }
    const jwksFile = await tempFile('jwks.json', JSON.stringify(jwks))

    const run = await register(
      ['--server', url, '--token-file', '-', '--auth-method', 'private_key_jwt', '--jwks-file', jwksFile],
      IAT,
    )

    expect(run.code).toBe(0)
    const info = JSON.parse(run.stdout)
    expect(info.client_secret).toBeUndefined()
    expect(info.jwks).toEqual(jwks)
  })

  it('a refused registration exits 1 naming the error, prints nothing on stdout and never the token', async () => {
    const { url } = await startRegistering()
    const wrong = await register(['--server', url, '--token-file', '-'], `${IAT}-wrong`)
    expect(wrong.code).toBe(1)
    expect(wrong.stdout).toBe('')
    expect(wrong.stderr).toContain('registration refused: 401 invalid_token')
    expect(wrong.stderr).not.toContain(IAT)
  })

  it('refused metadata exits 1 naming invalid_client_metadata', async () => {
    const { url } = await startRegistering()
    const bad = await register(
      ['--server', url, '--token-file', '-', '--auth-method', 'client_secret_jwt'],
      IAT,
    )
    expect(bad.code).toBe(1)
    expect(bad.stderr).toContain('registration refused: 400 invalid_client_metadata')
  })

  it('exits 1 for a server without registration', async () => {
    const { url } = await startServer({ clients: [] })
    const off = await register(['--server', url])
    expect(off.code).toBe(1)
    expect(off.stderr).toContain('offers no client registration')
  })

  it('exits 2 for a wrong command line; the token has no flag of its own', async () => {
    const noServer = await register(['--scope', 'read'])
    expect(noServer.code).toBe(2)
    expect(noServer.stderr).toContain('--server is required')
    // A token on the command line would show in ps and the shell history.
    const tokenFlag = await register(['--server', 'http://127.0.0.1:9', '--token', IAT])
    expect(tokenFlag.code).toBe(2)
    expect(tokenFlag.stderr).not.toContain(IAT)
  })

  it('exits 1 naming a token file it cannot read', async () => {
    const missingFile = await register([
      '--server',
      'http://127.0.0.1:9',
      '--token-file',
      '/nonexistent/token',
    ])
    expect(missingFile.code).toBe(1)
    expect(missingFile.stderr).toContain('cannot read --token-file file /nonexistent/token (ENOENT)')
  })

  it('registers at an m2m-server started from a config file with registration on', async () => {
    const config = await tempFile(
      'server.json',
      JSON.stringify({ clients: [], registration: { initialAccessTokens: [IAT], scopes: ['read'] } }),
    )
    const server = spawn(
      process.execPath,
      ['--conditions=@oauth-m2m/source', '--import', 'tsx', CLI, '--config', config, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        server.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString()
          const match = /listening on (\S+)\n/.exec(out)
          if (match) resolve(match[1] as string)
        })
        server.on('exit', (code) => reject(new Error(`m2m-server exited with ${code}`)))
      })

      const run = await register(['--server', url, '--token-file', '-', '--scope', 'read'], IAT)

      expect(run.code).toBe(0)
      const info = JSON.parse(run.stdout)
      const token = await postForm(
        `${url}/token`,
        { grant_type: 'client_credentials' },
        basic(info.client_id, info.client_secret),
      )
      expect(token.json.scope).toBe('read')
    } finally {
      server.kill('SIGTERM')
    }
  })

  it('prints its help with --help', async () => {
    const run = await register(['--help'])
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('Usage: m2m-server register --server URL')
  })
})
