/**
 * `@oauth-m2m/core/internal`: the building blocks the oauth-m2m packages share among themselves
 * (protocol grammar, transport rule, the authenticated form POST, encodings, redaction). Not a
 * public API: anything here may change in any release. Users import from `@oauth-m2m/core` or
 * from the package they use.
 *
 * @internal
 * @packageDocumentation
 */
export { abortable } from './abortable.js'
export {
  type AuthenticatedFormAnswer,
  type AuthenticatedFormPostOptions,
  errorFromAnswer,
  postAuthenticatedForm,
} from './authenticated-form-post.js'
export {
  type BasicCredentialsResult,
  decodeBasicCredentials,
  encodeBasicCredentials,
} from './basic-credentials.js'
export { applyClientAuth } from './client-auth/apply-client-auth.js'
export { addClientAssertion } from './client-auth/assertion.js'
export { assertSecretSource, resolveSecret } from './client-auth/secret-source.js'
export { certificateThumbprint, parseClientCertHeader } from './client-cert-header.js'
export { deepFreeze } from './deep-freeze.js'
export { summarizeError } from './diagnostics.js'
export { accessTokenHash } from './dpop/access-token-hash.js'
export { DPOP_SIGNING_ALGS, type DpopSigningAlg, isDpopSigningAlg } from './dpop/dpop-algorithms.js'
export { isDpopNonce } from './dpop/dpop-nonce-syntax.js'
export { dpopReplayExpiresAtMs } from './dpop/dpop-replay-lifetime.js'
export { normalizeHtu } from './dpop/htu.js'
export { jwkThumbprint } from './dpop/jwk-thumbprint.js'
export { rsaProofKeyProblem } from './dpop/proof-key.js'
export {
  DEFAULT_DPOP_NONCE_WINDOW_SEC,
  MIN_DPOP_NONCE_SECRET_BYTES,
  RotatingNonce,
  type RotatingNonceOptions,
} from './dpop/rotating-nonce.js'
export {
  DEFAULT_DPOP_IAT_WINDOW_SEC,
  type DpopProofExpectations,
  MAX_DPOP_JTI_LENGTH,
  MAX_DPOP_PROOF_LENGTH,
  type VerifiedDpopProof,
  verifyDpopProof,
} from './dpop/verify-dpop-proof.js'
export { encodeForm, type FormParams, formUrlDecode, formUrlEncode, parseForm } from './form-encoding.js'
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_REQUEST_TIMEOUT_MS,
  headerValue,
  type JsonRequestOptions,
  type JsonResponse,
  requestJson,
} from './json-request.js'
export { isJwkCompatible, type JwkSelection, selectJwk } from './jwk-match.js'
export { parseJwksDocument } from './jwks-document.js'
export { packageVersion } from './package-version.js'
export {
  isAbsoluteUriWithoutFragment,
  isB64Token,
  isErrorDescriptionText,
  isScopeToken,
  parseScopeParameter,
  toErrorDescription,
} from './protocol-grammar.js'
export { createRedactor, NO_REDACTION, REDACTED, type Redactor } from './redaction.js'
export { parseRetryAfter } from './retry-after.js'
export { isLoopbackHostname, isSecureTransport } from './transport-security.js'
