// Loader hooks of record-packages.mjs: every resolved URL inside node_modules is reported as the
// package it belongs to and the file within it, e.g. `jose/dist/webapi/util/base64url.js`, and so
// is every file of the workspace's packages.
let port

export function initialize(data) {
  port = data.port
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context)
  const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+\/(?!.*\/node_modules\/).*)$/.exec(result.url)
  if (match) port.postMessage(match[1])
  // The workspace's own packages resolve to their folders: `@oauth-m2m/verifier/src/introspection.ts`.
  const own = /\/packages\/([^/]+)\/((?:src|dist)\/.*)$/.exec(result.url)
  if (own && !match) port.postMessage(`@oauth-m2m/${own[1]}/${own[2]}`)
  return result
}
