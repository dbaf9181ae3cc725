/**
 * The oauth-m2m reference server (the built package) on a TLS listener (`listen({ tls })`), with
 * the bench client (`client_secret_basic`) and a `tls_client_auth` client whose tokens are bound to
 * its certificate (RFC 8705), both issuing ES256 JWTs. The bench made the server's key and
 * certificate and the client CA at run time and hands them over in `BENCH_TLS_FIXTURE`.
 */
import { createAuthorizationServer } from '@oauth-m2m/server'
import {
  CLIENT_ID,
  CLIENT_SCOPE,
  CLIENT_SECRET,
  MTLS_CLIENT_ID,
  MTLS_SUBJECT_DN,
  RESOURCE,
  TLS_FIXTURE_ENV,
  TOKEN_LIFETIME_SEC,
} from './bench-client.js'
import { serveFixture } from './fixture-protocol.js'

const tls = JSON.parse(process.env[TLS_FIXTURE_ENV] ?? 'null') as {
  key: string
  cert: string
  ca: string
} | null
if (tls === null) throw new Error(`${TLS_FIXTURE_ENV} is not set: the bench starts this fixture`)

const server = await createAuthorizationServer({
  clients: [
    {
      client_id: CLIENT_ID,
      client_secret: CLIENT_SECRET,
      token_endpoint_auth_method: 'client_secret_basic',
      scope: CLIENT_SCOPE,
    },
    {
      client_id: MTLS_CLIENT_ID,
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: MTLS_SUBJECT_DN,
      tls_client_certificate_bound_access_tokens: true,
      scope: CLIENT_SCOPE,
    },
  ],
  resources: [{ resource: RESOURCE, tokenFormat: 'jwt' }],
  tokenFormat: 'jwt',
  accessTokenLifetimeSec: TOKEN_LIFETIME_SEC,
  signing: { alg: 'ES256' },
  mtls: { ca: tls.ca },
})
const { url } = await server.listen({ port: 0, host: '127.0.0.1', tls: { key: tls.key, cert: tls.cert } })
serveFixture(url, () => server.close())
