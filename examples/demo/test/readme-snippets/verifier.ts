import { createServer } from 'node:http'
import { createVerifier } from '@oauth-m2m/verifier'
import { type AuthenticatedRequest, bearerAuth } from '@oauth-m2m/verifier/node'

const verifier = createVerifier({
  issuer: 'https://as.example.com', // JWT keys from its jwks_uri (RFC 8414 discovery)
  audience: 'https://inventory.example.com', // this API: a token's `aud` must name it
  // opaque tokens too: introspection: { clientId: 'inventory-api', auth: clientSecretBasic(secret) }
})

// 401 without a valid token, 403 insufficient_scope without the scope (RFC 6750).
const requireRead = bearerAuth({ verifier, requiredScopes: ['inventory:read'], realm: 'inventory-api' })

createServer((req, res) =>
  requireRead(req, res, () => {
    const { clientId, scopes } = (req as AuthenticatedRequest).auth
    res.end(JSON.stringify({ calledBy: clientId, scopes }))
  }),
).listen(8080, '127.0.0.1')

// Without middleware: resolves to { clientId, subject, scopes, audience, expiresAt, claims, source }
export async function whoIsCalling(token: string): Promise<string> {
  const principal = await verifier.verify(token, { requiredScopes: ['inventory:read'] })
  return principal.clientId
}
