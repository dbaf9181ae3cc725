/**
 * A token endpoint made of msw handlers, for the client's unit tests of HTTP edge cases: each
 * test scripts the answers, and the server records what it was sent.
 */
import { createMswDispatcher } from '@oauth-m2m/testing/msw'
import { HttpResponse, http, type JsonBodyType } from 'msw'
import type { Dispatcher } from 'undici'

/** Token endpoint used by the msw tests. */
export const TOKEN_ENDPOINT = 'https://as.example.test/token'

/** One request the token endpoint received. */
export interface ReceivedRequest {
  form: URLSearchParams
  headers: Headers
}

/** Answers one token request; `n` counts from 1. */
export type Answer = (n: number, request: ReceivedRequest) => Response | Promise<Response>

/** A scripted token endpoint. */
export interface ScriptedTokenServer {
  dispatcher: Dispatcher
  requests: ReceivedRequest[]
}

/** Starts a token endpoint that answers the n-th request with `answer(n)`. */
export function scriptedTokenServer(answer: Answer): ScriptedTokenServer {
  const requests: ReceivedRequest[] = []
  const dispatcher = createMswDispatcher([
    http.post(TOKEN_ENDPOINT, async ({ request }) => {
      const received = { form: new URLSearchParams(await request.text()), headers: request.headers }
      requests.push(received)
      return answer(requests.length, received)
    }),
  ])
  return { dispatcher, requests }
}

let counter = 0

/** A successful token answer with a distinct opaque token each time. */
export function tokenAnswer(extra: Record<string, JsonBodyType> = {}): Response {
  counter++
  return HttpResponse.json(
    { access_token: `opaque-token-${counter}`, token_type: 'Bearer', expires_in: 3600, ...extra },
    { headers: { 'cache-control': 'no-store' } },
  )
}

/** An RFC 6749 §5.2 error answer. */
export function oauthErrorAnswer(
  status: number,
  error: string,
  headers: Record<string, string> = {},
): Response {
  return HttpResponse.json({ error, error_description: `${error} (test)` }, { status, headers })
}
