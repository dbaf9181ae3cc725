import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { main } from '../src/main.js'

const root = fileURLToPath(new URL('../../..', import.meta.url))

describe('example: secret-rotation', () => {
  it('keeps getting tokens through the rotation, without a restart; only the retired secret is refused', async () => {
    const { steps, traffic } = await main()

    expect(steps.map(({ result }) => result)).toEqual([
      'ok', // old secret, old registration
      'ok', // old secret, both registered
      'ok', // new secret (from the secret function), both registered
      'ok', // old secret from another instance, both registered
      'ok', // new secret, old one retired: proves the function's new value was sent
      'invalid_client', // old secret, retired
    ])
    expect(traffic.requests).toBeGreaterThan(0)
    expect(traffic.failures).toBe(0)
  })

  // Starting tsx on the TypeScript sources takes seconds on a loaded machine; the bound is generous.
  it('runs as a script: prints each step and exits 0 on its own', { timeout: 60_000 }, async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['--import', 'tsx', '--conditions=@oauth-m2m/source', 'examples/secret-rotation/src/main.ts'],
      { cwd: root, timeout: 30_000 },
    )

    expect(stdout).toContain('3. secret store updated; service sends the new one: ok')
    expect(stdout).toContain('4. old secret retired; service sends the new one: ok')
    expect(stdout).toContain('4. old secret retired; a stale instance sends the old one: invalid_client')
    expect(stdout).toMatch(/meanwhile: [1-9]\d* token requests from another instance, 0 failed/)
    expect(stdout).not.toContain('secret-2025-old')
    expect(stdout).not.toContain('secret-2026-new')
  })
})
