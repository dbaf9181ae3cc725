/**
 * The transport rule of every package (core's isSecureTransport): the JWKS and the introspection
 * endpoint are reached over https, or http to a loopback host only, unless `allowInsecureHttp`
 * says a plain-http network is trusted (a docker-compose network, say). Endpoints learned from
 * discovery always follow the rule. The "compose host" below is a name that a dispatcher resolves
 * to 127.0.0.1, so the test stays on loopback while the verifier sees a non-loopback http URL.
 */
import type { LookupFunction } from 'node:net'
import { ConfigurationError, clientSecretBasic } from '@oauth-m2m/core'
import { createVerifier, TemporarilyUnavailableError, type VerifierOptions } from '@oauth-m2m/verifier'
import { Agent } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { AUDIENCE, accessTokenClaims, ISSUER, makeKey, mintToken, type TestKey } from './support/keys.js'
import { startTestIssuer, type TestIssuer } from './support/test-issuer.js'

const COMPOSE_HOST = 'auth-server.compose'
const OPAQUE = 'Zm9vYmFyLW9wYXF1ZS10b2tlbi10cmFuc3BvcnQ'

let as: TestIssuer
let key: TestKey
let port: string
/** Resolves every name to 127.0.0.1, as a compose network's DNS would resolve its service name. */
let composeDns: Agent

const toLoopback: LookupFunction = (_hostname, options, callback) => {
  if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }])
  else callback(null, '127.0.0.1', 4)
}

beforeAll(async () => {
  key = await makeKey('ES256', 'transport-key')
  as = await startTestIssuer([key.publicJwk])
  port = new URL(as.issuer).port
  composeDns = new Agent({ connect: { lookup: toLoopback } })
})
afterAll(async () => {
  await composeDns.close()
  await as.close()
})

const introspection = (endpoint: string | undefined) => ({
  ...(endpoint === undefined ? {} : { endpoint }),
  clientId: 'api',
  auth: clientSecretBasic('api-secret'),
})

describe('configured endpoints', () => {
  it.each([
    ['jwksUri', { jwksUri: 'http://auth-server.compose/jwks' }],
    ['jwksUri on a private address', { jwksUri: 'http://10.0.0.5:8080/jwks' }],
    ['introspection.endpoint', { introspection: introspection('http://auth-server.compose/introspect') }],
  ])('refuses %s over http to a non-loopback host at creation', (name, overrides) => {
    const create = () =>
      createVerifier({ issuer: ISSUER, audience: AUDIENCE, ...(overrides as Partial<VerifierOptions>) })
    expect(create).toThrow(ConfigurationError)
    expect(create).toThrow(`${name.split(' ')[0]} uses http: on a non-loopback host`)
    expect(create).toThrow('allowInsecureHttp')
  })

  it.each([
    'http://127.0.0.1:8080/jwks',
    'http://127.1.2.3/jwks',
    'http://localhost:3000/jwks',
    'http://[::1]:3000/jwks',
  ])('takes loopback http without allowInsecureHttp: %s', (jwksUri) => {
    expect(() => createVerifier({ issuer: ISSUER, audience: AUDIENCE, jwksUri })).not.toThrow()
    expect(() =>
      createVerifier({ issuer: ISSUER, audience: AUDIENCE, introspection: introspection(jwksUri) }),
    ).not.toThrow()
  })

  it('refuses an allowInsecureHttp that is not a boolean', () => {
    expect(() =>
      createVerifier({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUri: 'http://auth-server.compose/jwks',
        allowInsecureHttp: 'yes' as never,
      }),
    ).toThrow('allowInsecureHttp must be a boolean')
  })

  it('verifies a JWT with keys fetched over http from a compose host when allowInsecureHttp is set', async () => {
    const verifier = createVerifier({
      issuer: ISSUER,
      audience: AUDIENCE,
      jwksUri: `http://${COMPOSE_HOST}:${port}/jwks`,
      dispatcher: composeDns,
      allowInsecureHttp: true,
    })
    const before = as.counts.jwks
    const principal = await verifier.verify(await mintToken(key, accessTokenClaims()))
    expect(principal.clientId).toBe('service-a')
    expect(as.counts.jwks).toBe(before + 1)
    await verifier.close()
  })

  it('introspects over http at a compose host when allowInsecureHttp is set', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600
    as.onIntrospect(() => ({
      body: { active: true, iss: as.issuer, aud: AUDIENCE, client_id: 'service-b', scope: 'read', exp },
    }))
    const verifier = createVerifier({
      issuer: as.issuer,
      audience: AUDIENCE,
      introspection: introspection(`http://${COMPOSE_HOST}:${port}/introspect`),
      dispatcher: composeDns,
      allowInsecureHttp: true,
    })
    const before = as.counts.introspection
    expect((await verifier.verify(OPAQUE)).clientId).toBe('service-b')
    expect(as.counts.introspection).toBe(before + 1)
    await verifier.close()
  })
})

/** The messages of `err` and its causes, joined: what was refused, not only that something was. */
function causes(err: unknown): string {
  const messages: string[] = []
  for (let e = err; e instanceof Error; e = e.cause) messages.push(e.message)
  return messages.join(' <- ')
}

describe('endpoints learned from discovery', () => {
  it('a jwks_uri over http to a non-loopback host is never fetched: 503', async () => {
    as.setMetadata({ jwks_uri: `http://${COMPOSE_HOST}:${port}/jwks` })
    try {
      const verifier = createVerifier({
        issuer: as.issuer,
        audience: AUDIENCE,
        dispatcher: composeDns,
        discoveryFailureCooldownMs: 0,
      })
      const before = as.counts.jwks
      const token = await mintToken(key, accessTokenClaims({ iss: as.issuer }))
      const err = await verifier.verify(token).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(TemporarilyUnavailableError)
      expect(causes(err)).toContain('jwks_uri must be an https URL (http only for loopback hosts)')
      expect(as.counts.jwks).toBe(before)
      await verifier.close()
    } finally {
      as.setMetadata({})
    }
  })

  it('an introspection_endpoint over http to a non-loopback host is never called: 503', async () => {
    as.setMetadata({ introspection_endpoint: `http://${COMPOSE_HOST}:${port}/introspect` })
    try {
      const verifier = createVerifier({
        issuer: as.issuer,
        audience: AUDIENCE,
        introspection: introspection(undefined),
        dispatcher: composeDns,
        discoveryFailureCooldownMs: 0,
      })
      const before = as.counts.introspection
      const err = await verifier.verify(OPAQUE).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(TemporarilyUnavailableError)
      expect(causes(err)).toContain(
        'introspection_endpoint must be an https URL (http only for loopback hosts)',
      )
      expect(as.counts.introspection).toBe(before)
      await verifier.close()
    } finally {
      as.setMetadata({})
    }
  })

  // A compose network's issuer is http://auth:8080 and so is everything its metadata names: the
  // option that trusts that network covers discovery too.
  it('with allowInsecureHttp, an http issuer on a compose host is discovered and its http jwks_uri used', async () => {
    const composeIssuer = `http://${COMPOSE_HOST}:${port}`
    as.setMetadata({ issuer: composeIssuer, jwks_uri: `${composeIssuer}/jwks` })
    try {
      const verifier = createVerifier({
        issuer: composeIssuer,
        audience: AUDIENCE,
        dispatcher: composeDns,
        allowInsecureHttp: true,
      })
      const before = as.counts.jwks
      const principal = await verifier.verify(await mintToken(key, accessTokenClaims({ iss: composeIssuer })))
      expect(principal.issuer).toBe(composeIssuer)
      expect(as.counts.jwks).toBe(before + 1)
      await verifier.close()
    } finally {
      as.setMetadata({})
    }
  })
})
