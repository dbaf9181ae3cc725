/**
 * Makes access tokens: JWTs per RFC 9068 (`typ: at+jwt` unless configured otherwise, claims iss,
 * sub, aud, exp, iat, jti, client_id, scope, and `cnf` for a bound token: `jkt` for DPoP, RFC 9449
 * §6, `x5t#S256` for a client certificate, RFC 8705 §3.1)
 * signed with the current key, or opaque tokens kept in the store; with a `beforeSign` hook, the
 * claims it returns merged over those.
 *
 * @module token-issuer
 */
import { randomUUID } from 'node:crypto'
import type { RegisteredClient } from './client-registry.js'
import type { BeforeSignHook } from './config.js'
import { newOpaqueToken, opaqueTokenHash } from './opaque-tokens.js'
import type { FormParams } from './request-form.js'
import type { TokenTarget } from './resource.js'
import type { ServerStore, StoredTokenClaims } from './server-store.js'
import type { SigningKeySet } from './signing/signing-key-set.js'

/**
 * The claims the token endpoint issues before any hook: every RFC 9068 claim, all present. A type
 * alias, not an interface, so that it is assignable to a record of claims.
 */
type IssuedClaims = {
  iss: string
  sub: string
  aud: string | string[]
  exp: number
  iat: number
  jti: string
  client_id: string
  scope: string
  /** The confirmation of a bound token (see {@link TokenBinding}). */
  cnf?: TokenBinding
}

/**
 * What a token is bound to (`cnf`): a DPoP key's RFC 7638 thumbprint (`jkt`, RFC 9449 §6.1), a
 * client certificate's SHA-256 thumbprint (`x5t#S256`, RFC 8705 §3.1), or both.
 */
export interface TokenBinding {
  jkt?: string
  'x5t#S256'?: string
}

/** What {@link AccessTokenIssuer} needs. */
export interface AccessTokenIssuerOptions {
  issuer: string
  keys: SigningKeySet
  store: ServerStore
  /** The server's clock, epoch ms: `iat` and `exp` count from it. */
  now: () => number
  /** The JWT `typ` header, or `null` for none. */
  typ: string | null
  /** The `beforeSign` hook, if configured. */
  beforeSign: BeforeSignHook | undefined
}

/** Form parameters the hook never sees: the client's credentials. */
const CREDENTIAL_PARAMS = new Set(['client_secret', 'client_assertion'])

function hookParams(params: FormParams): Record<string, string> {
  const visible: Record<string, string> = {}
  for (const [name, values] of params) {
    if (!CREDENTIAL_PARAMS.has(name) && values[0] !== undefined) visible[name] = values[0]
  }
  return visible
}

/** `claims` with `changes` merged over them; a change to `undefined` removes the claim. */
export function mergeClaims(
  claims: Readonly<Record<string, unknown>>,
  changes: Readonly<Record<string, unknown>> | undefined,
): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...claims }
  if (changes === undefined) return merged
  if (typeof changes !== 'object' || changes === null || Array.isArray(changes)) {
    throw new TypeError('beforeSign must return an object of claims or undefined')
  }
  for (const [name, value] of Object.entries(changes)) {
    if (value === undefined) delete merged[name]
    else merged[name] = value
  }
  return merged
}

/**
 * Throws when a hook removed or changed a member of `cnf` of a bound token (`jkt`, `x5t#S256`): a
 * token without its binding would work for whoever holds it. The request then fails with 500 and
 * `onInternalError` gets this error. (A test that wants such a token mints it with
 * `@oauth-m2m/testing`'s `mintToken`, which sets exactly the claims it is given.)
 */
function keepsBinding(shaped: Readonly<Record<string, unknown>>, binding: TokenBinding): void {
  const cnf = shaped.cnf
  for (const [member, value] of Object.entries(binding)) {
    if (typeof cnf !== 'object' || cnf === null || (cnf as Record<string, unknown>)[member] !== value) {
      throw new Error(
        `beforeSign removed or changed cnf.${member} of a ${member === 'jkt' ? 'DPoP' : 'certificate'}-bound token; it may add claims to cnf only`,
      )
    }
  }
}

/** Issues access tokens for one issuer. */
export class AccessTokenIssuer {
  readonly #options: AccessTokenIssuerOptions

  constructor(options: AccessTokenIssuerOptions) {
    this.#options = options
  }

  /**
   * A new access token for `client` with `scope`, for `target`. Synchronous for JWTs when no
   * `beforeSign` hook is configured (the token endpoint's fast path).
   *
   * @param params The token request's form parameters, for the hook.
   * @param binding What the token is bound to (`cnf`); none for an unbound Bearer token.
   */
  issue(
    client: RegisteredClient,
    scope: string,
    target: TokenTarget,
    params: FormParams,
    binding?: TokenBinding,
  ): string | Promise<string> {
    const { issuer, now, keys, typ, beforeSign } = this.#options
    const iat = Math.floor(now() / 1000)
    const claims: IssuedClaims = {
      iss: issuer,
      sub: client.id,
      aud: target.audience,
      exp: iat + target.lifetimeSec,
      iat,
      jti: randomUUID(),
      client_id: client.id,
      scope,
    }
    if (binding !== undefined) claims.cnf = binding
    if (beforeSign !== undefined) return this.#issueShaped(beforeSign, claims, client, target, params)
    if (target.format === 'opaque') return this.#store(claims, claims.exp)
    return keys.sign(claims, typ)
  }

  async #issueShaped(
    beforeSign: BeforeSignHook,
    claims: IssuedClaims,
    client: RegisteredClient,
    target: TokenTarget,
    params: FormParams,
  ): Promise<string> {
    const changes = await beforeSign({
      client: structuredClone(client.publicMetadata),
      scopes: claims.scope === '' ? [] : claims.scope.split(' '),
      resources: [...(params.get('resource') ?? [])],
      params: hookParams(params),
      claims: Object.freeze(structuredClone(claims)),
      format: target.format,
    })
    const shaped = mergeClaims(claims, changes)
    if (claims.cnf !== undefined) keepsBinding(shaped, claims.cnf)
    if (target.format === 'opaque') {
      // The store keeps the token for its lifetime; an `exp` the hook removed does not shorten it.
      const exp = typeof shaped.exp === 'number' && Number.isFinite(shaped.exp) ? shaped.exp : claims.exp
      return this.#store(shaped, exp)
    }
    return this.#options.keys.signWithHeader(shaped, this.#options.typ, {})
  }

  #store(claims: StoredTokenClaims, expSec: number): Promise<string> {
    return storeOpaqueToken(this.#options.store, claims, expSec)
  }
}

/** A new opaque token whose claims `store` keeps until `expSec` (epoch seconds). */
export async function storeOpaqueToken(
  store: ServerStore,
  claims: StoredTokenClaims,
  expSec: number,
): Promise<string> {
  const token = newOpaqueToken()
  await store.saveOpaqueToken(opaqueTokenHash(token), claims, expSec * 1000)
  return token
}
