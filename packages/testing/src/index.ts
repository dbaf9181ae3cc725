/**
 * `@oauth-m2m/testing`: helpers for testing code that uses oauth-m2m — the real reference
 * authorization server on a free loopback port or in process behind msw, credentials of test
 * clients and minted tokens. The msw helpers live in `@oauth-m2m/testing/msw`.
 *
 * @packageDocumentation
 */
export * from './start-authorization-server.js'
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
