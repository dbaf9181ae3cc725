/**
 * The protected API, built with each middleware adapter of `@oauth-m2m/verifier`. The apps are the
 * verifier's own conformance apps (`GET /things` protected with the options given, `GET /admin`
 * needing `read` and `admin`, both answering `200 {"clientId", "scopes"}`), imported from there
 * because the frameworks are dependencies of the verifier package, not of this one.
 */
export { APPS as MIDDLEWARE_APPS } from '../../../packages/verifier/test/middleware/apps.js'
export type { AppUnderTest } from '../../../packages/verifier/test/middleware/conformance.js'

/** What every app answers with on success. */
export interface PrincipalSummary {
  clientId: string | null
  scopes: string[] | null
}
