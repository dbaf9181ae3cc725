/**
 * `m2m-server --tls-cert --tls-key [--tls-ca]`: an HTTPS listener from the command line, mutual TLS
 * turned on by the CA file, and the usage errors.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { decodeJwt } from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { listeningUrl, runCli } from './cli-harness.js'
import { type TestCertificate, type TestPki, testPki, tlsPost, x5tS256 } from './mtls-support.js'
import { basic } from './test-server.js'

const dirs: string[] = []

let pki: TestPki
let orders: TestCertificate
let dir: string

beforeAll(async () => {
  pki = await testPki()
  orders = await pki.client('C=DE, O=Example, CN=orders')
  dir = await mkdtemp(join(tmpdir(), 'm2m-server-tls-'))
  dirs.push(dir)
  await writeFile(join(dir, 'server.crt'), pki.server.pem)
  await writeFile(join(dir, 'server.key'), pki.server.keyPem)
  await writeFile(join(dir, 'ca.crt'), pki.ca.pem)
  await writeFile(
    join(dir, 'config.json'),
    JSON.stringify({
      clients: [
        {
          client_id: 'orders',
          token_endpoint_auth_method: 'tls_client_auth',
          tls_client_auth_subject_dn: 'CN=orders,O=Example,C=DE',
          tls_client_certificate_bound_access_tokens: true,
        },
        { client_id: 'svc', client_secret: 'svc-secret' },
      ],
    }),
  )
})

afterAll(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })))
})

function run(args: string[]) {
  const proc = runCli(args)
  const listening = listeningUrl(proc)
  // A run expected to fail never listens: its rejection is not an unhandled one.
  listening.catch(() => undefined)
  return { exit: proc.exit, listening, stderr: proc.stderr }
}

const file = (name: string) => join(dir, name)

describe('m2m-server --tls-cert --tls-key --tls-ca', () => {
  it('serves HTTPS with tls_client_auth and bound tokens, and secret clients on the same listener', async () => {
    const proc = run([
      '--config',
      file('config.json'),
      '--tls-cert',
      file('server.crt'),
      '--tls-key',
      file('server.key'),
      '--tls-ca',
      file('ca.crt'),
    ])
    const url = await proc.listening
    expect(url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/)
    const token = await tlsPost(
      `${url}/token`,
      { grant_type: 'client_credentials', client_id: 'orders' },
      { ca: pki.ca.pem, cert: orders },
    )
    expect(token.status, token.text).toBe(200)
    expect(decodeJwt(token.json.access_token)).toMatchObject({
      iss: url,
      cnf: { 'x5t#S256': x5tS256(orders) },
    })
    const secret = await tlsPost(
      `${url}/token`,
      { grant_type: 'client_credentials' },
      { ca: pki.ca.pem, headers: basic('svc', 'svc-secret') },
    )
    expect(secret.status).toBe(200)
  })

  it('refuses --tls-cert without --tls-key, --tls-ca without a listener, and tls_client_auth without a CA', async () => {
    const noKey = run(['--tls-cert', file('server.crt')])
    expect(await noKey.exit).toBe(2)
    expect(noKey.stderr()).toContain('--tls-cert and --tls-key go together')
    const noListener = run(['--tls-ca', file('ca.crt')])
    expect(await noListener.exit).toBe(2)
    const noCa = run([
      '--config',
      file('config.json'),
      '--tls-cert',
      file('server.crt'),
      '--tls-key',
      file('server.key'),
    ])
    expect(await noCa.exit).toBe(1)
    expect(noCa.stderr()).toContain('needs the server option mtls.ca')
  })
})
