/** Runs `m2m-token` as a child process, and the loopback servers the CLI tests point it at. */
import { spawn } from 'node:child_process'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { AuthorizationServer } from '@oauth-m2m/server'

const CLI = fileURLToPath(new URL('../src/cli.ts', import.meta.url))
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const RESOLVE_HOSTS = fileURLToPath(new URL('./cli-resolve-hosts.mjs', import.meta.url))

/**
 * Time limit of a test that runs the CLI, in ms: each run starts Node.js and tsx, which takes
 * seconds on a busy machine, and some tests run it four times. It bounds a hung test, not speed.
 */
export const CHILD_PROCESS_TEST_TIMEOUT_MS = 120_000

/** How a run ended. */
export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Options of {@link runCli}. */
export interface RunOptions {
  /** Added to the test process's environment. */
  env?: Record<string, string>
  /** Written to the CLI's standard input, which is then closed (closed at once without it). */
  stdin?: string
  /** Resolve the host name `auth-server` to 127.0.0.1 in the child. */
  resolveAuthServer?: boolean
}

/** Runs the CLI from its TypeScript sources with `args`; a run longer than 30 s is killed. */
export function runCli(args: readonly string[], options: RunOptions = {}): Promise<Run> {
  const preload = options.resolveAuthServer ? ['--import', RESOLVE_HOSTS] : []
  const child = spawn(
    process.execPath,
    ['--conditions=@oauth-m2m/source', '--import', 'tsx', ...preload, CLI, ...args],
    { cwd: ROOT, env: { ...process.env, ...options.env }, stdio: 'pipe' },
  )
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  child.stdin.end(options.stdin ?? '')
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000)
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** Answers one request, given its whole body. */
export type EndpointListener = (body: string, req: IncomingMessage, res: ServerResponse) => void

/** Runs `use` with a URL `/token` on a free loopback port whose server answers with `listener`. */
export async function withEndpoint(
  listener: EndpointListener,
  use: (url: string, port: number) => Promise<void>,
): Promise<void> {
  const endpoint = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', () => listener(body, req, res))
  })
  await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
  const { port } = endpoint.address() as AddressInfo
  try {
    await use(`http://127.0.0.1:${port}/token`, port)
  } finally {
    endpoint.closeAllConnections()
    await new Promise((resolve) => endpoint.close(resolve))
  }
}

/** A loopback front of the reference server that counts the requests it forwards, by path. */
export interface CountingFront {
  /** Base URL of the front, e.g. `http://127.0.0.1:41234`. */
  url: string
  /** Requests forwarded so far to `path`. */
  count(path: string): number
  close(): Promise<void>
}

/** Starts a {@link CountingFront} that hands every request to `as.handle`. */
export async function countingFront(as: AuthorizationServer): Promise<CountingFront> {
  const counts = new Map<string, number>()
  const front = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', async () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      counts.set(url.pathname, (counts.get(url.pathname) ?? 0) + 1)
      const headers = new Headers()
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers.set(name, value)
      }
      const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined
      const answer = await as.handle(
        new Request(new URL(url.pathname + url.search, 'http://127.0.0.1'), {
          method: req.method ?? 'GET',
          headers,
          ...(body === undefined || req.method === 'GET' ? {} : { body }),
        }),
      )
      res.writeHead(answer.status, Object.fromEntries(answer.headers))
      res.end(Buffer.from(await answer.arrayBuffer()))
    })
  })
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(front.address() as AddressInfo).port}`,
    count: (path) => counts.get(path) ?? 0,
    close: async () => {
      front.closeAllConnections()
      await new Promise((resolve) => front.close(resolve))
    },
  }
}
