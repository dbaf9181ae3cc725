/**
 * Whether a request body can be sent a second time as it is, for the one retry after a 401
 * `invalid_token`. Strings, bytes, `URLSearchParams`, `FormData` and `Blob`s can; streams and
 * async iterables are consumed by the first attempt and cannot.
 *
 * @module replayable-body
 */
import { FormData as UndiciFormData } from 'undici'

/** Whether `body` (a fetch `init.body` or an undici dispatch body) can be sent again. */
export function isReplayableBody(body: unknown): boolean {
  return (
    body === undefined ||
    body === null ||
    typeof body === 'string' ||
    body instanceof URLSearchParams ||
    body instanceof ArrayBuffer ||
    ArrayBuffer.isView(body) ||
    body instanceof Blob ||
    body instanceof FormData ||
    body instanceof UndiciFormData
  )
}
