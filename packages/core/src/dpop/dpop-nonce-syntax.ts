/**
 * The syntax of a DPoP nonce (RFC 9449 §8.1), shared by the client that stores them and the
 * servers that send them.
 *
 * @module dpop/dpop-nonce-syntax
 */

// nonce = 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E: printable ASCII but `"` and `\`.
const NONCE = /^[\x21\x23-\x5B\x5D-\x7E]+$/

/** Whether `value` has the syntax of a DPoP nonce (RFC 9449 §8.1). */
export function isDpopNonce(value: string): boolean {
  return NONCE.test(value)
}
