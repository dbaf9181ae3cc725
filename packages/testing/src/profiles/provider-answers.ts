/**
 * Token-endpoint answers in a provider's shape: the JSON answers a profile sends itself (a
 * provider's refusals) and the server's answers with members added, removed or changed.
 *
 * @module profiles/provider-answers
 */

/** A JSON object, as token-endpoint answers are. */
export type JsonObject = Record<string, unknown>

/**
 * A JSON answer with the headers every token-endpoint answer carries (RFC 6749 §5.1: no caching),
 * plus `headers`.
 */
export function jsonAnswer(status: number, body: JsonObject, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'cache-control': 'no-store',
      pragma: 'no-cache',
      ...headers,
    },
  })
}

/**
 * `response` with its JSON body replaced by what `reshape` returns, status and headers kept
 * (`status` and `dropHeaders` change them). A body that is not a JSON object is left as it is.
 */
export async function reshapeJsonAnswer(
  response: Response,
  reshape: (body: JsonObject, status: number) => JsonObject,
  options: { status?: number; dropHeaders?: readonly string[] } = {},
): Promise<Response> {
  const type = response.headers.get('content-type') ?? ''
  if (!/^application\/json\b/i.test(type)) return response
  const text = await response.text()
  const headers = new Headers(response.headers)
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    body = undefined
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return new Response(text, { status: response.status, statusText: response.statusText, headers })
  }
  headers.delete('content-length')
  for (const name of options.dropHeaders ?? []) headers.delete(name)
  return new Response(JSON.stringify(reshape(body as JsonObject, response.status)), {
    status: options.status ?? response.status,
    statusText: options.status === undefined ? response.statusText : '',
    headers,
  })
}

/** `body` without the members named. */
export function without(body: JsonObject, ...names: string[]): JsonObject {
  const out = { ...body }
  for (const name of names) delete out[name]
  return out
}
