/**
 * A readable view of a JWT's header, for the narration. It decodes, it does not verify: the
 * verifier has already done that by the time this is called.
 *
 * @module jwt-view
 */

/** The header of a compact JWS in a `Bearer` authorization header, or `undefined` if it has none. */
export function bearerJwtHeader(authorization: string | undefined): Record<string, unknown> | undefined {
  const token = /^Bearer ([^\s.]+)\.[^\s.]*\.[^\s.]*$/i.exec(authorization ?? '')?.[1]
  if (token === undefined) return undefined
  try {
    const header: unknown = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'))
    return typeof header === 'object' && header !== null ? (header as Record<string, unknown>) : undefined
  } catch {
    return undefined
  }
}

/** `{"a":1}` → `a=1`, one line, for claims and headers. */
export function formatMembers(members: Record<string, unknown>, names?: readonly string[]): string {
  return (names ?? Object.keys(members))
    .filter((name) => members[name] !== undefined)
    .map((name) => `${name}=${JSON.stringify(members[name])}`)
    .join('  ')
}
