/**
 * Runs `m2m-test-server` as a child process (its TypeScript sources, through tsx) and reads what
 * it prints, for the CLI's tests.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const CLI = fileURLToPath(new URL('../../src/cli/m2m-test-server.ts', import.meta.url))

/** A running (or finished) `m2m-test-server`. */
export interface CliProcess {
  readonly child: ChildProcess
  stdout(): string
  stderr(): string
  /** The exit code once it exits (`null` when a signal ended it). */
  readonly exit: Promise<number | null>
}

const running: CliProcess[] = []

/** Starts `m2m-test-server args…`. */
export function runCli(args: readonly string[]): CliProcess {
  const child = spawn(process.execPath, ['--conditions=@oauth-m2m/source', '--import', 'tsx', CLI, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    out += chunk.toString()
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    err += chunk.toString()
  })
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)))
  const proc = { child, stdout: () => out, stderr: () => err, exit }
  running.push(proc)
  return proc
}

/** Sends SIGTERM to every process still running (for `afterEach`) and waits for them to end. */
export async function stopAll(): Promise<void> {
  const procs = running.splice(0)
  for (const proc of procs)
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGTERM')
  await Promise.all(procs.map((proc) => proc.exit))
}

/** The banner's `name: value` lines, and its `admin on` and `listening on` URLs. */
export interface Banner {
  readonly values: ReadonlyMap<string, string>
  readonly adminUrl: string | undefined
  readonly url: string
  /** The whole of what it printed. */
  readonly text: string
}

function parseBanner(text: string): Banner {
  const values = new Map<string, string>()
  let adminUrl: string | undefined
  let url = ''
  for (const line of text.split('\n')) {
    const ready = /^listening on (\S+)$/.exec(line)
    const admin = /^admin on (\S+)$/.exec(line)
    if (ready) url = ready[1]!
    else if (admin) adminUrl = admin[1]!
    else {
      const at = line.indexOf(': ')
      if (at > 0) values.set(line.slice(0, at), line.slice(at + 2))
    }
  }
  return { values, adminUrl, url, text }
}

/** Resolves with the banner once `listening on` is printed; rejects when the process exits first. */
export function banner(proc: CliProcess): Promise<Banner> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (/^listening on \S+\n/m.test(proc.stdout())) resolve(parseBanner(proc.stdout()))
    }
    proc.child.stdout?.on('data', check)
    check()
    proc.exit.then((code) => reject(new Error(`exited with ${code}: ${proc.stderr()}`)))
  })
}

/** A JSON POST to the admin endpoint: status and parsed body (`undefined` for none). */
export async function adminPost(
  adminUrl: string,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> | undefined }> {
  const res = await fetch(`${adminUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const text = await res.text()
  return { status: res.status, body: text === '' ? undefined : (JSON.parse(text) as Record<string, unknown>) }
}

/** A client_credentials request with Basic authentication over HTTP: status and parsed body. */
export async function tokenRequest(
  tokenEndpoint: string,
  clientId: string,
  clientSecret: string,
  params: Record<string, string> = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', ...params }).toString(),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}
