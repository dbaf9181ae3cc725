import { decodeProtectedHeader, type JWK } from 'jose'
import { afterEach, describe, expect, it } from 'vitest'
import { seededSigningJwk } from '../../src/cli/seeded-signing-key.js'
import { adminPost, type Banner, banner, runCli, stopAll, tokenRequest } from './cli-process.js'

afterEach(stopAll)

/** What a run with a seed should repeat: signing key, secrets, generated clients, token `kid`. */
async function seededState(run: Banner) {
  const { values, adminUrl } = run
  const jwks = (await (await fetch(values.get('jwks_uri')!)).json()) as { keys: JWK[] }
  const registered = await adminPost(adminUrl!, '/clients', { scope: 'read' })
  const minted = await adminPost(adminUrl!, '/tokens', {})
  return {
    // The current signing key is listed first; the one after it is the server's NEXT key, which it
    // generates at random for its next rotation (the server takes no configured next key).
    signingKey: jwks.keys[0],
    kid: decodeProtectedHeader(minted.body!.access_token as string).kid,
    demoClientId: values.get('demo client_id'),
    demoSecret: values.get('demo client_secret'),
    registeredId: registered.body!.client_id,
    registeredSecret: registered.body!.client_secret,
  }
}

describe('m2m-test-server --seed', () => {
  it('gives the same signing key, secrets and generated client ids on every run with the same seed', async () => {
    const [a, b, c] = [
      runCli(['--seed', 'suite-1']),
      runCli(['--seed', 'suite-1']),
      runCli(['--seed', 'suite-2']),
    ]
    const [first, again, other] = await Promise.all([banner(a), banner(b), banner(c)])
    expect(first.url).not.toBe(again.url)
    const [s1, s1again, s2] = await Promise.all([seededState(first), seededState(again), seededState(other)])
    expect(s1again).toEqual(s1)
    expect(s1.signingKey?.kid).toBe(s1.kid)
    expect(s1.registeredId).toMatch(/^client-/)
    // Another seed: every seeded value differs (the demo client keeps its configured id).
    expect(s2.demoClientId).toBe(s1.demoClientId)
    for (const name of ['signingKey', 'kid', 'demoSecret', 'registeredId', 'registeredSecret'] as const) {
      expect([name, s2[name]]).not.toEqual([name, s1[name]])
    }
    // The seeded secret is the one the server checks.
    const answer = await tokenRequest(first.values.get('token endpoint')!, s1.demoClientId!, s1.demoSecret!)
    expect(answer.status).toBe(200)
  })

  it('signs with the RSA key derived from the seed under a provider profile', async () => {
    const proc = runCli(['--seed', 'seed-4', '--profile', 'entra', '--no-admin'])
    const [{ values }, expected] = await Promise.all([banner(proc), seededSigningJwk('seed-4', 'RS256')])
    const jwks = (await (await fetch(values.get('jwks_uri')!)).json()) as { keys: JWK[] }
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', n: expected.n, e: expected.e, alg: 'RS256' })
    const answer = await tokenRequest(
      values.get('token endpoint')!,
      values.get('demo client_id')!,
      values.get('demo client_secret')!,
      { scope: new URLSearchParams(values.get('token request')).get('scope')! },
    )
    expect(answer.status).toBe(200)
    expect(decodeProtectedHeader(answer.body.access_token as string).kid).toBe(jwks.keys[0]?.kid)
  }, 120_000)
})
