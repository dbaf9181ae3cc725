import { createPrivateKey, type KeyObject } from 'node:crypto'
import type { CryptoKey, JWK } from 'jose'
import { ConfigurationError } from '../errors.js'
import { addClientAssertion, assertAssertionOptions } from './assertion.js'
import { certificateHeader } from './assertion-certificate.js'
import type { AssertionOptions, ClientAuthStrategy } from './types.js'

/** Asymmetric JWS algorithms accepted for `private_key_jwt`. */
export type PrivateKeyJwtAlg =
  | 'ES256'
  | 'ES384'
  | 'ES512'
  | 'RS256'
  | 'RS384'
  | 'RS512'
  | 'PS256'
  | 'PS384'
  | 'PS512'
  | 'EdDSA'

/** Options of {@link privateKeyJwt}. */
export interface PrivateKeyJwtOptions extends AssertionOptions {
  /** `kid` header of the assertion. Default: the JWK's `kid`, when the key is a JWK. */
  kid?: string
  /** Signing algorithm. Default: the JWK's `alg`, else derived from the key (P-256 → ES256, RSA → RS256, Ed25519 → EdDSA). */
  alg?: PrivateKeyJwtAlg
  /**
   * The X.509 certificate of the key, PEM (a chain may follow, leaf first), for servers that
   * register certificates instead of JWKs, such as Entra ID: the assertion header then names it by
   * its SHA-256 thumbprint, `x5t#S256`. Checked against the key at creation. Default: none.
   */
  certificate?: string
  /** With `certificate`: also send the SHA-1 thumbprint as `x5t` (older Entra ID endpoints, AD FS). Default `false`. */
  x5t?: boolean
  /** With `certificate`: also send the certificate chain as `x5c`. Default `false`. */
  x5c?: boolean
}

/** A private key: a WebCrypto `CryptoKey`, a `node:crypto` `KeyObject`, a private JWK, or a PKCS#8 PEM string. */
export type PrivateKeyInput = CryptoKey | KeyObject | JWK | string

const CURVE_ALG: Record<string, PrivateKeyJwtAlg> = {
  'P-256': 'ES256',
  'P-384': 'ES384',
  'P-521': 'ES512',
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
  Ed25519: 'EdDSA',
}

function deriveAlg(key: KeyObject | JWK): PrivateKeyJwtAlg | undefined {
  if ('asymmetricKeyType' in key && typeof key.asymmetricKeyType === 'string') {
    const type = key.asymmetricKeyType
    if (type === 'rsa') return 'RS256'
    if (type === 'rsa-pss') return 'PS256'
    if (type === 'ed25519') return 'EdDSA'
    if (type === 'ec') return CURVE_ALG[key.asymmetricKeyDetails?.namedCurve ?? '']
    return undefined
  }
  const jwk = key as JWK
  if (jwk.alg) return jwk.alg as PrivateKeyJwtAlg
  if (jwk.kty === 'RSA') return 'RS256'
  if (jwk.kty === 'EC' || jwk.kty === 'OKP') return CURVE_ALG[jwk.crv ?? '']
  return undefined
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return (
    typeof key === 'object' && key !== null && 'algorithm' in key && 'usages' in key && 'extractable' in key
  )
}

function cryptoKeyAlg(key: CryptoKey): PrivateKeyJwtAlg | undefined {
  const algorithm = key.algorithm as { name: string; namedCurve?: string; hash?: { name: string } }
  if (algorithm.name === 'ECDSA') return CURVE_ALG[algorithm.namedCurve ?? '']
  if (algorithm.name === 'Ed25519') return 'EdDSA'
  const bits = algorithm.hash?.name.replace('SHA-', '')
  if (algorithm.name === 'RSASSA-PKCS1-v1_5') return `RS${bits}` as PrivateKeyJwtAlg
  if (algorithm.name === 'RSA-PSS') return `PS${bits}` as PrivateKeyJwtAlg
  return undefined
}

/**
 * `private_key_jwt` (RFC 7523 §2.2): a fresh assertion per request signed with the client's
 * private key; the server checks it against the public key the client registered.
 *
 * The assertion follows draft-ietf-oauth-rfc7523bis-11, the newest revision (April 2026, in the
 * RFC Editor queue; -03 already had both rules): `aud` is the authorization server's issuer
 * identifier as one string whenever the issuer is known (the client's `issuer` option), never an
 * array and not the token endpoint, and the header carries `typ: client-authentication+jwt`. The
 * draft makes the issuer the one audience every server must accept, which closes the replay of an
 * assertion meant for one endpoint at another. A client given only a `tokenEndpoint` knows no
 * issuer and names the token endpoint, as before. Okta and Entra ID still document the token
 * endpoint as the only accepted `aud`: with them, give `audience` (see the client README).
 *
 * @param privateKey The private key (CryptoKey, KeyObject, private JWK, or PKCS#8 PEM).
 * @throws {ConfigurationError} when the key is not a private asymmetric key or the algorithm cannot be determined.
 */
export function privateKeyJwt(
  privateKey: PrivateKeyInput,
  options: PrivateKeyJwtOptions = {},
): ClientAuthStrategy {
  let key: CryptoKey | KeyObject | JWK
  let alg: PrivateKeyJwtAlg | undefined
  assertAssertionOptions(options, 'privateKeyJwt')
  let kid = options.kid
  try {
    if (typeof privateKey === 'string') {
      key = createPrivateKey(privateKey)
    } else {
      key = privateKey
    }
  } catch (err) {
    throw new ConfigurationError('privateKeyJwt: the PEM string is not a private key', { cause: err })
  }
  if (isCryptoKey(key)) {
    if (key.type !== 'private')
      throw new ConfigurationError('privateKeyJwt: the CryptoKey is not a private key')
    alg = options.alg ?? cryptoKeyAlg(key)
  } else if ('asymmetricKeyType' in key) {
    if ((key as KeyObject).type !== 'private') {
      throw new ConfigurationError('privateKeyJwt: the KeyObject is not a private key')
    }
    alg = options.alg ?? deriveAlg(key as KeyObject)
  } else {
    const jwk = key as JWK
    if (typeof jwk.kty !== 'string' || jwk.kty === 'oct' || jwk.d === undefined) {
      throw new ConfigurationError('privateKeyJwt: the JWK is not a private asymmetric key')
    }
    alg = options.alg ?? deriveAlg(jwk)
    kid ??= jwk.kid
  }
  if (alg === undefined)
    throw new ConfigurationError('privateKeyJwt: cannot tell the signing alg; pass options.alg')
  const signingAlg = alg
  if ((options.x5t !== undefined || options.x5c !== undefined) && options.certificate === undefined) {
    throw new ConfigurationError('privateKeyJwt: x5t and x5c need a certificate')
  }
  const certificate =
    options.certificate === undefined
      ? undefined
      : certificateHeader(key, {
          certificate: options.certificate,
          ...(options.x5t !== undefined ? { x5t: options.x5t } : {}),
          ...(options.x5c !== undefined ? { x5c: options.x5c } : {}),
        })

  let imported: Promise<CryptoKey | KeyObject | Uint8Array> | undefined
  const signingKey = (): Promise<CryptoKey | KeyObject | Uint8Array> => {
    if (isCryptoKey(key) || 'asymmetricKeyType' in key) return Promise.resolve(key as CryptoKey | KeyObject)
    imported ??= import('jose')
      .then(({ importJWK }) => importJWK(key as JWK, signingAlg))
      .catch((err: unknown) => {
        imported = undefined
        throw new ConfigurationError('privateKeyJwt: the JWK cannot be imported', { cause: err })
      })
    return imported
  }

  return {
    method: 'private_key_jwt',
    async apply(request, context) {
      const assertion = await addClientAssertion(
        request,
        context,
        await signingKey(),
        { ...certificate, alg: signingAlg, kid },
        options,
      )
      return { sensitive: [assertion] }
    },
  }
}
