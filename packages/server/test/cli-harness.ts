/**
 * Runs the real `m2m-server` (src/cli.ts under tsx) as a child process, on 127.0.0.1 and port 0
 * unless the test gives a `--port`; children still running and temporary directories are cleaned
 * up after each test.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const children: ChildProcess[] = []
const dirs: string[] = []

afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL')
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

/** A running `m2m-server`. */
export interface CliProcess {
  child: ChildProcess
  /** Everything written to stdout so far. */
  stdout(): string
  /** Everything written to stderr so far. */
  stderr(): string
  /** Resolves with the exit code. */
  exit: Promise<number | null>
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** The environment; default this process's, without the key-encryption key variables. */
  env?: NodeJS.ProcessEnv
  /** Whether to add `--port 0` when `args` has no `--port`. Default `true`. */
  anyPort?: boolean
}

/** Starts `m2m-server` with `args`. */
export function runCli(args: string[], options: RunOptions = {}): CliProcess {
  const port = options.anyPort !== false && !args.includes('--port') ? ['--port', '0'] : []
  const { M2M_KEY_ENCRYPTION_KEY: _, M2M_KEY_ENCRYPTION_KEY_FALLBACKS: __, ...inherited } = process.env
  const child = spawn(
    process.execPath,
    ['--conditions=@oauth-m2m/source', '--import', 'tsx', CLI, ...args, ...port],
    { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? inherited },
  )
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

/** Resolves with the first stdout line matching `pattern`, or rejects when the process exits first. */
export function waitForLine(proc: CliProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const line = proc
        .stdout()
        .split('\n')
        .find((l) => pattern.test(l))
      if (line !== undefined) {
        proc.child.stdout?.off('data', check)
        resolve(line)
      }
    }
    proc.child.stdout?.on('data', check)
    check()
    proc.exit.then((code) => reject(new Error(`exited with ${code}: ${proc.stderr()}`)))
  })
}

/** Resolves with the URL once the ready line appears, or rejects when the process exits first. */
export async function listeningUrl(proc: CliProcess): Promise<string> {
  const line = await waitForLine(proc, /^listening on \S+$/)
  return line.slice('listening on '.length)
}

/** The JSON lines of stdout (the log), parsed. */
export function logLines(proc: CliProcess): Record<string, unknown>[] {
  return proc
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
}

/** A new temporary directory, removed after the test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'm2m-server-cli-'))
  dirs.push(dir)
  return dir
}

/** A temporary file holding `content` (JSON-encoded unless a string), removed after the test. */
export async function tempFile(content: unknown, name = 'config.json'): Promise<string> {
  const file = join(await tempDir(), name)
  await writeFile(file, typeof content === 'string' ? content : JSON.stringify(content))
  return file
}
