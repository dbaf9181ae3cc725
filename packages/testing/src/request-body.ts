/**
 * Reads request bodies with a bound, for every part of a test server that looks into a body
 * before the server does (the request log, a provider profile's request rules): one reader, one
 * limit, the server's configured `maxBodyBytes`.
 *
 * The request router reads a body once, from the original request, and hands on a request
 * holding those bytes; whoever reads it again reads a clone of bytes already in memory. A cancel
 * of a clone is never awaited: one branch of a tee'd body settles its cancel only once the other
 * branch is read or cancelled too, which the server does only after the log is done.
 *
 * @module request-body
 */

/**
 * The server's `maxBodyBytes` when none is configured: the largest request body it reads, and
 * so the most any reader here reads.
 */
export const DEFAULT_MAX_BODY_BYTES = 65_536

/** A body read with a bound. */
export interface BoundedBody {
  /** The body, or its first `maxBodyBytes + 1` bytes when it is larger. */
  readonly bytes: Uint8Array
  /** Whether the body is larger than `maxBodyBytes`; the rest of it was not read. */
  readonly overflowed: boolean
}

/**
 * Reads `stream` up to `maxBodyBytes + 1` bytes: enough for a reader to tell that it is too large
 * (the server answers 413), never more. The rest of a larger body is cancelled without waiting.
 *
 * @throws what the stream throws (the client went away mid-body).
 */
export async function readBoundedBody(
  stream: ReadableStream<Uint8Array> | null,
  maxBodyBytes: number,
): Promise<BoundedBody> {
  if (stream === null) return { bytes: new Uint8Array(0), overflowed: false }
  const reader = stream.getReader()
  const chunks: Uint8Array[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) return { bytes: Buffer.concat(chunks), overflowed: false }
    const room = maxBodyBytes + 1 - size
    const kept = value.byteLength > room ? value.subarray(0, room) : value
    chunks.push(kept)
    size += kept.byteLength
    if (size > maxBodyBytes) {
      void reader.cancel().catch(() => {})
      return { bytes: Buffer.concat(chunks), overflowed: true }
    }
  }
}

/** A request read once by the router: the bytes, and a request that holds them for the rest. */
export interface BufferedRequest {
  /** `request` again, its body the bytes read (at most `maxBodyBytes + 1`), everything else kept. */
  readonly request: Request
  /** The body read; `undefined` for a request without one. */
  readonly body: BoundedBody | undefined
}

/**
 * Reads the body of `request` (the original, not a clone) with the bound, and rebuilds the
 * request around the bytes read, so that everyone after reads memory. A body over the limit is
 * handed on as its first `maxBodyBytes + 1` bytes: the server still sees that it is too large.
 *
 * @throws what the body stream throws (the client went away mid-body).
 */
export async function bufferRequest(request: Request, maxBodyBytes: number): Promise<BufferedRequest> {
  if (request.body === null) return { request, body: undefined }
  const body = await readBoundedBody(request.body, maxBodyBytes)
  const rebuilt = new Request(request.url, {
    method: request.method,
    headers: request.headers,
    body: body.bytes,
    signal: request.signal,
  })
  return { request: rebuilt, body }
}

/** `bytes` as UTF-8 text; `undefined` when they are not UTF-8. */
export function utf8Text(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes)
  } catch {
    return undefined
  }
}

/**
 * The body of `request` as UTF-8 text, read from a clone with the bound; `undefined` when there is
 * none, it is larger than `maxBodyBytes`, or it is not UTF-8. `request` itself stays unread.
 */
export async function readBodyText(request: Request, maxBodyBytes: number): Promise<string | undefined> {
  if (request.body === null || request.bodyUsed) return undefined
  const declared = Number(request.headers.get('content-length') ?? Number.NaN)
  if (declared > maxBodyBytes) return undefined
  let body: BoundedBody
  try {
    body = await readBoundedBody(request.clone().body, maxBodyBytes)
  } catch {
    return undefined
  }
  return body.overflowed ? undefined : utf8Text(body.bytes)
}
