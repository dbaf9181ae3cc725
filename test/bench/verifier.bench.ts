/**
 * Verifier bench (issue 4): `verify()` per second for ES256, EdDSA and RS256 with the
 * verified-token cache off, beside — in the same run — jose `jwtVerify` with a local key (the
 * WebCrypto path) and a bare `node:crypto` signature check (the floor of any JWT verification).
 * Target: at least 1.5× jose for ES256. Then `verify()` of a token already verified (cache hit):
 * target at least 1 M per second; the bare SHA-256 of the token, measured in the same run, shows
 * how much of that this machine allows at the moment. Last, `verify()` through a real preset,
 * `entraId({ tenantId, audience })` with only its key URL pointed at the local server, on tokens
 * shaped as Entra ID v2.0 shapes its app-only tokens (`typ: JWT`, `azp`, `roles`), against the
 * strict RFC 9068 default on RFC 9068 tokens, both RS256 with the same key in the same run:
 * target within 10 %.
 *
 * The verifier gets its keys the production way: `jwksUri` pointing at a JWKS served by node:http
 * on 127.0.0.1, through the core JWKS cache. Tokens are minted once per algorithm, so every
 * uncached call does the whole check (parse, header rules, key lookup, signature, claims).
 * Series compared with each other are measured in alternating short rounds (medians reported).
 *
 * DPoP (issue 12): core's `verifyDpopProof` (node:crypto, keys imported once per thumbprint)
 * beside the jose-based check of the same proof that its differential test holds it to
 * (`jwtVerify` with `EmbeddedJWK`, the same RFC 9449 rules on top), for ES256, EdDSA and PS256:
 * target at least 1.5× jose for ES256. Then both on proofs that each bring a new key (more keys
 * than the import cache holds), the cost of a client seen for the first time.
 */
import {
  createPublicKey,
  verify as cryptoVerify,
  generateKeyPairSync,
  hash,
  type JsonWebKey,
  type KeyObject,
  randomUUID,
} from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { accessTokenHash, type DpopProofExpectations, verifyDpopProof } from '@oauth-m2m/core/internal'
import { createVerifier, entraId } from '@oauth-m2m/verifier'
import { type CryptoKey, exportJWK, generateKeyPair, type JWK, jwtVerify, SignJWT } from 'jose'
import { signCompact } from '../../packages/core/test/support/dpop-proofs.js'
import { joseVerifyDpopProof } from '../../packages/core/test/support/jose-dpop-proof-check.js'
import { type BenchRow, opsPerSecond } from './harness.js'

const ISSUER = 'https://bench-issuer.example'
const AUDIENCE = 'https://bench-api.example'
const ALGS = ['ES256', 'EdDSA', 'RS256'] as const
const CACHE_HIT_TARGET = 1_000_000
const ES256_TARGET_RATIO = 1.5
const PROVIDER_MAPPING_TARGET_RATIO = 0.9
const DPOP_TARGET_RATIO = 1.5
const DPOP_URL = 'https://bench-api.example/things'
const DPOP_TOKEN = 'bench-access-token'
/** Proofs with keys of their own: more than core's import cache (1 024) holds. */
const DPOP_COLD_KEYS = 2048
// An Entra ID tenant, API and client as in Microsoft's v2.0 token example.
const ENTRA_TENANT = '72f988bf-86f1-41af-91ab-2d7cd011db47'
const ENTRA_API = '6e74172b-be56-4843-9ff4-e66a39bb12e3'
const ENTRA_CLIENT = '535fb089-9ff3-47b6-9bfb-4f1264799865'
const ENTRA_SERVICE_PRINCIPAL = '690222be-ff1a-4d56-abd1-7e4f7d38e474'

interface Fixture {
  alg: (typeof ALGS)[number]
  token: string
  privateKey: CryptoKey
  publicKey: CryptoKey
  publicJwk: JWK
}

async function fixture(alg: Fixture['alg']): Promise<Fixture> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...(await exportJWK(publicKey)), kid: `bench-${alg}`, alg, use: 'sig' }
  const token = await new SignJWT({ client_id: 'bench-client', scope: 'read write', sub: 'bench-client' })
    .setProtectedHeader({ alg, kid: publicJwk.kid, typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('2h')
    .setJti('bench')
    .sign(privateKey)
  return { alg, token, privateKey, publicKey, publicJwk }
}

/** The bare signature check over the token's signing input, as a lower bound of any verifier's cost. */
function rawCheck(f: Fixture): () => boolean {
  const key = createPublicKey({ key: f.publicJwk as JsonWebKey, format: 'jwk' })
  const dot = f.token.lastIndexOf('.')
  const input = Buffer.from(f.token.slice(0, dot), 'latin1')
  const signature = Buffer.from(f.token.slice(dot + 1), 'base64url')
  if (f.alg === 'ES256') {
    return () => cryptoVerify('sha256', input, { key, dsaEncoding: 'ieee-p1363' }, signature)
  }
  if (f.alg === 'RS256') return () => cryptoVerify('sha256', input, key, signature)
  return () => cryptoVerify(null, input, key, signature)
}

const ROUNDS = 5

/**
 * Ops/s of each function, measured in alternation for `ROUNDS` short rounds and reduced to the
 * median, so that a load change on a shared machine hits every series alike.
 */
async function interleaved<K extends string>(fns: Record<K, () => unknown>): Promise<Record<K, number>> {
  const samples = Object.fromEntries(Object.keys(fns).map((k) => [k, [] as number[]])) as Record<K, number[]>
  for (let round = 0; round < ROUNDS; round++) {
    for (const key of Object.keys(fns) as K[]) {
      samples[key].push(await opsPerSecond(fns[key], { durationMs: 400, warmupMs: round === 0 ? 300 : 50 }))
    }
  }
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
  return Object.fromEntries(Object.entries(samples).map(([k, xs]) => [k, median(xs as number[])])) as Record<
    K,
    number
  >
}

const DPOP_KEYS: Record<string, () => { privateKey: KeyObject; publicKey: KeyObject }> = {
  ES256: () => generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  EdDSA: () => generateKeyPairSync('ed25519'),
  PS256: () => generateKeyPairSync('rsa', { modulusLength: 2048 }),
}

/** A proof of `alg` for GET DPOP_URL with DPOP_TOKEN, issued at `iat`, by a fresh key. */
function dpopProof(alg: string, iat: number): string {
  const { privateKey, publicKey } = DPOP_KEYS[alg]!()
  const header = { typ: 'dpop+jwt', alg, jwk: publicKey.export({ format: 'jwk' }) }
  const claims = { jti: randomUUID(), htm: 'GET', htu: DPOP_URL, iat, ath: accessTokenHash(DPOP_TOKEN) }
  return signCompact(header, claims, alg, privateKey)
}

/** Core's node:crypto proof check beside the jose-based one, on the same proofs. */
async function dpopRows(): Promise<BenchRow[]> {
  const iat = Math.floor(Date.now() / 1000)
  // The clock is pinned to the proofs' iat, so a long run never ages them out of the window.
  const expect: DpopProofExpectations = { method: 'GET', url: DPOP_URL, accessToken: DPOP_TOKEN, nowSec: iat }
  const rows: BenchRow[] = []
  for (const alg of Object.keys(DPOP_KEYS)) {
    const proof = dpopProof(alg, iat)
    if (verifyDpopProof(proof, expect).jkt !== (await joseVerifyDpopProof(proof, expect))) {
      throw new Error(`the ${alg} bench proof does not verify alike`)
    }
    const { core, jose } = await interleaved({
      core: () => verifyDpopProof(proof, expect),
      jose: () => joseVerifyDpopProof(proof, expect),
    })
    rows.push({
      group: 'verifier',
      name: `verifyDpopProof ${alg} (node:crypto), the same client again`,
      value: core,
      unit: 'ops/s',
      baseline: { name: 'jose jwtVerify + EmbeddedJWK, same rules', value: jose },
      higherIsBetter: true,
      ...(alg === 'ES256'
        ? { target: `≥ ${DPOP_TARGET_RATIO}× jose`, met: core >= DPOP_TARGET_RATIO * jose }
        : {}),
    })
  }
  const cold = Array.from({ length: DPOP_COLD_KEYS }, () => dpopProof('ES256', iat))
  let next = 0
  const { core, jose } = await interleaved({
    core: () => verifyDpopProof(cold[next++ % cold.length], expect),
    jose: () => joseVerifyDpopProof(cold[next++ % cold.length]!, expect),
  })
  rows.push({
    group: 'verifier',
    name: `verifyDpopProof ES256, a new key every proof (${DPOP_COLD_KEYS} keys in turn)`,
    value: core,
    unit: 'ops/s',
    baseline: { name: 'jose jwtVerify + EmbeddedJWK, same proofs', value: jose },
    higherIsBetter: true,
  })
  return rows
}

export async function run(): Promise<BenchRow[]> {
  const fixtures = await Promise.all(ALGS.map(fixture))
  const jwks = JSON.stringify({ keys: fixtures.map((f) => f.publicJwk) })
  const server = createServer((_req, res) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(jwks),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const jwksUri = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`
  const rows: BenchRow[] = []
  try {
    const options = { issuer: ISSUER, audience: AUDIENCE, jwksUri }
    const uncached = createVerifier({ ...options, tokenCache: false })
    const cached = createVerifier(options)
    let es256Uncached = 0

    for (const f of fixtures) {
      if (!rawCheck(f)()) throw new Error(`bench fixture for ${f.alg} does not verify`)
      await uncached.verify(f.token) // fetch the JWKS before measuring
      const {
        jose: joseOps,
        verifier: verifierOps,
        raw: rawOps,
      } = await interleaved({
        jose: () =>
          jwtVerify(f.token, f.publicKey, {
            issuer: ISSUER,
            audience: AUDIENCE,
            typ: 'at+jwt',
            algorithms: [f.alg],
          }),
        verifier: () => uncached.verify(f.token),
        raw: rawCheck(f),
      })
      if (f.alg === 'ES256') es256Uncached = verifierOps
      const baseline = { name: 'jose.jwtVerify, local key', value: joseOps }
      rows.push({
        group: 'verifier',
        name: `verify() ${f.alg}, token cache off`,
        value: verifierOps,
        unit: 'ops/s',
        baseline,
        higherIsBetter: true,
        ...(f.alg === 'ES256'
          ? { target: `≥ ${ES256_TARGET_RATIO}× jose`, met: verifierOps >= ES256_TARGET_RATIO * joseOps }
          : {}),
      })
      rows.push({
        group: 'verifier',
        name: `node:crypto verify ${f.alg}, signature only`,
        value: rawOps,
        unit: 'ops/s',
        baseline,
        higherIsBetter: true,
      })
    }

    const hot = fixtures[0]!.token
    await cached.verify(hot)
    const { hit: hitOps, sha256: hashOps } = await interleaved({
      hit: () => cached.verify(hot),
      // The floor of a cache hit on this machine right now: hashing the token is most of its cost.
      sha256: () => hash('sha256', hot, 'base64'),
    })
    rows.push({
      group: 'verifier',
      name: 'verify() ES256, verified-token cache hit',
      value: hitOps,
      unit: 'ops/s',
      baseline: { name: 'verify() ES256, cache off', value: es256Uncached },
      higherIsBetter: true,
      target: '≥ 1 M ops/s',
      met: hitOps >= CACHE_HIT_TARGET,
    })
    rows.push({
      group: 'verifier',
      name: 'SHA-256 of the same token alone (cache-hit floor)',
      value: hashOps,
      unit: 'ops/s',
      higherIsBetter: true,
    })

    // The same RS256 key, a token shaped the way Entra ID v2.0 shapes its app-only tokens.
    const rs256 = fixtures.find((f) => f.alg === 'RS256')!
    const preset = entraId({ tenantId: ENTRA_TENANT, audience: ENTRA_API })
    const entraToken = await new SignJWT({
      aio: 'bench',
      azp: ENTRA_CLIENT,
      azpacr: '1',
      idtyp: 'app',
      oid: ENTRA_SERVICE_PRINCIPAL,
      roles: ['Things.Read', 'Things.Write'],
      sub: ENTRA_SERVICE_PRINCIPAL,
      tid: ENTRA_TENANT,
      uti: 'fqiBqXLPj0eQa82S-IYFAA',
      ver: '2.0',
    })
      .setProtectedHeader({ typ: 'JWT', alg: 'RS256', kid: rs256.publicJwk.kid! })
      .setIssuer(preset.issuer as string)
      .setAudience(ENTRA_API)
      .setIssuedAt()
      .setNotBefore('0s')
      .setExpirationTime('2h')
      .sign(rs256.privateKey)
    // The preset as an application would use it; only its key URL points at the local server.
    const mapped = createVerifier({ ...preset, jwksUri, tokenCache: false })
    const principal = await mapped.verify(entraToken, { requiredScopes: ['Things.Read'] })
    if (principal.clientId !== ENTRA_CLIENT) throw new Error('the Entra-shaped bench token does not verify')
    const { mapped: mappedOps, strict: strictOps } = await interleaved({
      mapped: () => mapped.verify(entraToken),
      strict: () => uncached.verify(rs256.token),
    })
    rows.push({
      group: 'verifier',
      name: 'verify() RS256, entraId() preset, Entra v2.0-shaped token (typ JWT, azp, roles)',
      value: mappedOps,
      unit: 'ops/s',
      baseline: { name: 'verify() RS256, strict default, RFC 9068 token', value: strictOps },
      higherIsBetter: true,
      target: 'within 10 % of strict',
      met: mappedOps >= PROVIDER_MAPPING_TARGET_RATIO * strictOps,
    })

    await mapped.close()
    await uncached.close()
    await cached.close()

    rows.push(...(await dpopRows()))
  } finally {
    server.closeAllConnections()
    await new Promise((resolve) => server.close(resolve))
  }
  return rows
}
