import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { encodeBasicCredentials } from '@oauth-m2m/core/internal'
import { afterEach, describe, expect, it } from 'vitest'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGTERM')
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

function run(args: string[]): {
  child: ChildProcess
  stdout: () => string
  stderr: () => string
  exit: Promise<number | null>
} {
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

/** Resolves with stdout once the ready line appears, or rejects when the process exits first. */
function listening(proc: ReturnType<typeof run>): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (/listening on \S+\n/.test(proc.stdout())) resolve(proc.stdout())
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

describe('m2m-server CLI', () => {
  it('starts with a printed demo client, announces its URL once and serves a token', async () => {
    const proc = run(['--port', '0'])
    const out = await listening(proc)
    const url = /^listening on (http:\/\/127\.0\.0\.1:(\d+))$/m.exec(out)
    expect(url).not.toBeNull()
    expect(Number(url![2])).toBeGreaterThan(0)
    expect(out.match(/listening on/g)).toHaveLength(1)
    const clientId = /^demo client_id: (\S+)$/m.exec(out)![1]!
    const clientSecret = /^demo client_secret: (\S+)$/m.exec(out)![1]!
    const res = await fetch(`${url![1]}/token`, {
      method: 'POST',
      headers: {
        authorization: encodeBasicCredentials(clientId, clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    })
    expect(res.status).toBe(200)
    const meta = (await (await fetch(`${url![1]}/.well-known/oauth-authorization-server`)).json()) as {
      issuer: string
    }
    expect(meta.issuer).toBe(url![1])
    proc.child.kill('SIGTERM')
    expect(await proc.exit).toBe(0)
  })

  it('serves the clients of a config file, with --issuer', async () => {
    const file = await tempConfig({
      clients: [{ client_id: 'cfg', client_secret: 'cfg-secret', scope: 'a' }],
    })
    const proc = run(['--config', file, '--issuer', 'https://as.example.com'])
    const out = await listening(proc)
    expect(out).not.toContain('demo client')
    const url = /listening on (\S+)/.exec(out)![1]!
    const meta = (await (await fetch(`${url}/.well-known/oauth-authorization-server`)).json()) as {
      issuer: string
    }
    expect(meta.issuer).toBe('https://as.example.com')
    proc.child.kill('SIGINT')
    expect(await proc.exit).toBe(0)
  })

  it('refuses a bad config file with a non-zero exit naming the field', async () => {
    const file = await tempConfig({
      clients: [
        { client_id: 'a', client_secret: 's' },
        { client_id: 'b', token_endpoint_auth_method: 'magic' },
      ],
    })
    const proc = run(['--config', file])
    expect(await proc.exit).not.toBe(0)
    expect(proc.stderr()).toContain('clients[1].token_endpoint_auth_method')
    expect(proc.stdout()).not.toContain('listening on')
  })

  it('refuses a config file that is not JSON', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'm2m-server-cli-'))
    dirs.push(dir)
    await writeFile(join(dir, 'bad.json'), '{ nope')
    const proc = run(['--config', join(dir, 'bad.json')])
    expect(await proc.exit).not.toBe(0)
    expect(proc.stderr()).toContain('not valid JSON')
  })

  it('prints its usage with --help', async () => {
    const proc = run(['--help'])
    expect(await proc.exit).toBe(0)
    expect(proc.stdout()).toContain('--config FILE')
  })

  it('points --dev to m2m-test-server in one line, with exit code 2, even beside the dev options', async () => {
    for (const args of [['--dev'], ['--dev', '--seed', 's', '--profile', 'entra']]) {
      const proc = run(args)
      expect(await proc.exit).toBe(2)
      expect(proc.stderr()).toMatch(/^m2m-server: [^\n]*npx m2m-test-server[^\n]*\n$/)
      expect(proc.stdout()).toBe('')
    }
  })

  it('refuses an unknown option with its usage', async () => {
    const proc = run(['--nope'])
    expect(await proc.exit).toBe(2)
    expect(proc.stderr()).toContain('Usage: m2m-server')
  })
})
