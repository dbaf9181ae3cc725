/**
 * `@oauth-m2m/testing/msw`: the parts that need msw (an optional peer dependency), kept apart so
 * that `@oauth-m2m/testing` itself loads without msw installed.
 *
 * - {@link authorizationServerHandlers}: msw handlers that serve the reference server in process.
 * - {@link createMswDispatcher} / {@link mswInterceptor}: answer undici's own requests from msw
 *   handlers (msw does not see undici's sockets).
 *
 * @packageDocumentation
 */
export * from './msw-handlers.js'
export * from './msw-undici.js'
