/**
 * `GET /healthz` and `GET /readyz`, for load balancers and orchestrators: the process answers, and
 * the store it needs answers too. Neither is in the RFC 8414 metadata: they are for the operator,
 * not for OAuth clients.
 *
 * @module health-endpoints
 */
import { type EndpointResponse, noStoreJson } from './http-response.js'
import type { ServerStore } from './server-store.js'

/** Path of the liveness check: 200 while the process serves requests. */
export const HEALTH_PATH = '/healthz'

/** Path of the readiness check: 200 when the store answers a ping in time, else 503. */
export const READY_PATH = '/readyz'

/** How long `/readyz` waits for the store's ping, in milliseconds, before answering 503. */
export const READY_TIMEOUT_MS = 2000

const OK = '{"status":"ok"}'
const UNAVAILABLE = '{"status":"unavailable"}'

/** The liveness answer: `200 {"status":"ok"}`. */
export function healthAnswer(): EndpointResponse {
  return noStoreJson(200, OK)
}

/**
 * The readiness answer: `200 {"status":"ok"}` when `store.ping()` resolves within
 * {@link READY_TIMEOUT_MS}, else `503 {"status":"unavailable"}` with `Retry-After`. Never rejects.
 */
export async function readinessAnswer(store: ServerStore): Promise<EndpointResponse> {
  let timer: NodeJS.Timeout | undefined
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), READY_TIMEOUT_MS)
    timer.unref()
  })
  try {
    const ready = await Promise.race([store.ping().then(() => true), timedOut])
    if (ready) return noStoreJson(200, OK)
  } catch {
    // An unreachable store is what this endpoint reports; the ping's error says nothing more.
  } finally {
    clearTimeout(timer)
  }
  return noStoreJson(503, UNAVAILABLE, { 'retry-after': '1' })
}
