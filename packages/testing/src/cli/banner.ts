/**
 * The lines `m2m-test-server` prints once started: `name: value`, one per line, easy to read and
 * to parse; `listening on <url>` comes last, when the server already answers.
 *
 * @module cli/banner
 */
import type { DevServerInfo } from './dev-server-info.js'

/** The banner, each line ending in `\n`. */
export function formatBanner(info: DevServerInfo, adminUrl: string | undefined): string {
  const lines: string[] = [`profile: ${info.profile}`, `issuer: ${info.issuer}`]
  lines.push(`token endpoint: ${info.tokenEndpoint}`, `jwks_uri: ${info.jwksUri}`)
  if (info.audience !== undefined) lines.push(`audience: ${info.audience}`)
  const demo = info.demoClient
  if (demo !== undefined) {
    lines.push(`demo client_id: ${demo.clientId}`)
    if (demo.clientSecret !== undefined) lines.push(`demo client_secret: ${demo.clientSecret}`)
    if (demo.privateJwk !== undefined) lines.push(`demo private_jwk: ${JSON.stringify(demo.privateJwk)}`)
    lines.push(`demo token_endpoint_auth_method: ${demo.tokenEndpointAuthMethod}`)
    lines.push(`demo scope: ${demo.scope}`)
  }
  if (info.tokenRequest !== undefined) {
    lines.push(
      `token request: ${new URLSearchParams({ grant_type: 'client_credentials', ...info.tokenRequest })}`,
    )
  }
  lines.push(`verifier: ${JSON.stringify(info.verifier)}`)
  if (adminUrl !== undefined) lines.push(`admin on ${adminUrl}`)
  lines.push(`listening on ${info.url}`)
  return `${lines.map((line) => `${line}\n`).join('')}`
}
