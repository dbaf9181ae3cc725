/**
 * The @oauth-m2m/core quickstart: builds its strategies from a private key (`privateKey`) and the
 * certificate of that key (`pem`), which openssl makes here: privateKeyJwt checks that they match.
 */
import { execFileSync } from 'node:child_process'
import { createPrivateKey } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runQuickstart } from './world.js'

const dir = mkdtempSync(join(tmpdir(), 'quickstart-core-'))
try {
  const key = join(dir, 'key.pem')
  const certificate = join(dir, 'cert.pem')
  const subject = ['-subj', '/CN=quickstart', '-keyout', key, '-out', certificate]
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1']
  execFileSync('openssl', ['req', '-x509', ...newKey, ...subject], { stdio: 'pipe' })
  Object.assign(globalThis, {
    privateKey: createPrivateKey(readFileSync(key)),
    pem: readFileSync(certificate, 'utf8'),
  })
} finally {
  rmSync(dir, { recursive: true, force: true })
}
process.env.CLIENT_SECRET = 'quickstart-secret'
await runQuickstart(() => ({}))
