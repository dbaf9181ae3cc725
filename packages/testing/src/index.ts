/**
 * `@oauth-m2m/testing`: helpers for testing code that uses oauth-m2m — the real reference
 * authorization server on a free loopback port or in process behind msw, credentials of test
 * clients and minted tokens, and the world around it under the test's control: its clock, a log
 * of what clients sent, failures on demand, several issuers on one port. The msw helpers live in
 * `@oauth-m2m/testing/msw`.
 *
 * @packageDocumentation
 * @module @oauth-m2m/testing
 */
export type { TestClock } from './clock.js'
export { ENDPOINT_KINDS, type EndpointKind } from './endpoint-kinds.js'
export {
  type FailNextOptions,
  type FailureAnswer,
  MAX_FAILURE_DELAY_MS,
  type OutageOptions,
} from './failure-injection.js'
export {
  INVALID_TOKEN_KINDS,
  type InvalidTokenKind,
  type MintInvalidTokenOptions,
} from './invalid-tokens.js'
export * from './profiles/public-api.js'
export {
  type LoggedAuthMethod,
  type LoggedRequest,
  REQUEST_LOG_MAX_ENTRIES,
  type RequestFilter,
} from './request-log.js'
export * from './start-authorization-server.js'
export * from './start-authorization-servers.js'
export {
  createTestAuthorizationServer,
  DEFAULT_TEST_AUDIENCE,
  DEFAULT_TEST_CLIENT_ID,
  DEFAULT_TEST_ISSUER,
  DEFAULT_TEST_SCOPE,
  type TestAuthorizationServer,
  type TestAuthorizationServerOptions,
} from './test-authorization-server.js'
export type { TestClientCredentials, TestClientMetadata } from './test-clients.js'
export type { MintTokenOptions } from './token-minting.js'
