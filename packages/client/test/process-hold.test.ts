/** A caller waiting for a token keeps the process alive until it has its answer. */
import { execFile } from 'node:child_process'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const JOB = fileURLToPath(new URL('./fixtures/hanging-store-job.ts', import.meta.url))

describe('a job awaiting a token', () => {
  it('is not ended by the unref-ed store time limit while its store hangs', async () => {
    const endpoint = createServer((_req, res) => {
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ access_token: 'after-the-store', token_type: 'Bearer', expires_in: 300 }))
    })
    await new Promise<void>((resolve) => endpoint.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/token`
    try {
      const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          process.execPath,
          ['--conditions=@oauth-m2m/source', '--import', 'tsx', JOB],
          { cwd: ROOT, env: { ...process.env, TOKEN_ENDPOINT: url }, timeout: 20_000 },
          (error, stdout) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout }),
        )
      })
      expect(result).toEqual({ code: 0, stdout: 'after-the-store\n' })
    } finally {
      endpoint.closeAllConnections()
      await new Promise((resolve) => endpoint.close(resolve))
    }
  })
})
