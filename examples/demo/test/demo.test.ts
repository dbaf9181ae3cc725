import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ConfigurationError } from '@oauth-m2m/core'
import { describe, expect, it } from 'vitest'
import { runDemo } from '../src/run-demo.js'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** A compact JWS/JWT: base64url JSON header and payload, both starting `{"`. */
const COMPACT_JWT = /eyJ[\w-]*\.eyJ[\w-]*\./
/** Opaque tokens are 43 base64url characters; nothing else printed is that long but the key id. */
const LONG_BASE64URL = /[\w-]{40,}/g

function summaryNumber(output: string, label: string): number {
  const match = new RegExp(`${label}\\s+(\\d+)`).exec(output)
  if (match?.[1] === undefined) throw new Error(`no "${label}" line in the output`)
  return Number(match[1])
}

/** Every long base64url run printed is the signing key's id, never a token or a secret. */
function expectNoTokenPrinted(output: string): void {
  expect(output).not.toMatch(COMPACT_JWT)
  const kid = /kid="([\w-]+)"/.exec(output)?.[1]
  for (const run of output.match(LONG_BASE64URL) ?? []) expect(run).toBe(kid)
}

describe('runDemo', () => {
  it('tells the whole story, counts it consistently, and prints secrets only in the --keep curl lines', async () => {
    const lines: string[] = []
    const stop = new AbortController()
    let keptServerAnswered: Promise<number> | undefined
    const summary = await runDemo({
      keep: true,
      stopSignal: stop.signal,
      log: (line) => {
        lines.push(line)
        if (line === 'Press Ctrl-C to stop.') {
          // The servers are still up now: fetch the metadata the first curl line points at, then stop.
          const metadataUrl = lines.map((l) => /curl -s (\S+well-known\S+)/.exec(l)?.[1]).find(Boolean)
          keptServerAnswered = fetch(metadataUrl!).then(async (r) => {
            await r.arrayBuffer()
            return r.status
          })
          const stopDemo = () => stop.abort()
          keptServerAnswered.then(stopDemo, stopDemo)
        }
      },
    })
    const output = lines.join('\n')

    expect(await keptServerAnswered).toBe(200)
    expect(summary).toMatchObject({
      requests: 8,
      succeeded: 7,
      forbidden: 1,
      forgedRefused: 2,
      introspections: 1,
    })
    expect(summary.backgroundRefreshes).toBeGreaterThanOrEqual(1)
    // Each request got its token either from the cache or from a request it waited for.
    expect(summary.tokensFromCache + summary.tokensFetched - summary.backgroundRefreshes).toBe(
      summary.requests,
    )
    // Three keys (checkout→inventory, checkout→billing, reporting→inventory) needed a first token.
    expect(summary.tokensFetched - summary.backgroundRefreshes).toBeGreaterThanOrEqual(3)

    expect(output).toContain('token_endpoint')
    expect(output).toMatch(/answer: 403 .*insufficient_scope/)
    expect(output).toMatch(
      /WWW-Authenticate: Bearer realm="inventory-api", error="insufficient_scope".*scope="inventory:reserve"/,
    )
    expect(
      output.match(/answer: 401\n\s+WWW-Authenticate: Bearer [^\n]*error="invalid_token"/g),
    ).toHaveLength(2)
    expect(output).toMatch(/background refresh: checkout-service/)
    expect(summaryNumber(output, 'tokens served from the cache')).toBe(summary.tokensFromCache)
    expect(summaryNumber(output, 'tokens fetched from the server')).toBe(summary.tokensFetched)

    const keepAt = lines.findIndex((l) => l.startsWith('== Still running'))
    expect(keepAt).toBeGreaterThan(0)
    const story = lines.slice(0, keepAt).join('\n')
    const secrets = [...output.matchAll(/-u '[\w-]+:([\w-]+)'/g)].map((m) => m[1]!)
    expect(secrets.length).toBeGreaterThanOrEqual(2)
    for (const secret of secrets) expect(story).not.toContain(secret)
    expectNoTokenPrinted(story)
  }, 60_000)

  it('refuses a token lifetime too short to show an early refresh', async () => {
    await expect(runDemo({ tokenLifetimeSec: 1, log: () => {} })).rejects.toBeInstanceOf(ConfigurationError)
  })
})

describe('the pnpm demo command path', () => {
  it('runs the built packages through tsx, exits 0 and prints no secret or token', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/src/main.ts'], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve))

    expect(stderr).not.toMatch(/demo failed|Error/)
    expect(code).toBe(0)
    expect(stdout).toMatch(/answer: 403 .*insufficient_scope/)
    expect(
      stdout.match(/answer: 401\n\s+WWW-Authenticate: Bearer [^\n]*error="invalid_token"/g),
    ).toHaveLength(2)
    expect(summaryNumber(stdout, 'requests made by the services')).toBe(8)
    expect(summaryNumber(stdout, 'forged tokens refused with 401')).toBe(2)
    expect(summaryNumber(stdout, 'tokens served from the cache')).toBeGreaterThanOrEqual(4)
    expect(stdout).not.toContain('Still running')
    expect(stdout).not.toMatch(/-u '/)
    expectNoTokenPrinted(stdout)
  }, 60_000)
})
