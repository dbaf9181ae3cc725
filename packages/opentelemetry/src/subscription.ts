/**
 * A listener on one diagnostics channel, and subscribing a set of them so that telemetry can never
 * break the application: `diagnostics_channel` turns what a subscriber throws into an uncaught
 * exception, so every listener runs inside a guard that reports to OpenTelemetry's `diag` logger.
 *
 * @module subscription
 */
import diagnostics_channel from 'node:diagnostics_channel'
import { diag } from '@opentelemetry/api'

/** A listener for the messages of one channel. */
export interface Subscription {
  /** The channel's name. */
  channel: string
  /** Receives each message, as the package published it. */
  listener: (message: never) => void
}

/** Subscribes every listener; the returned function unsubscribes them all (once). */
export function subscribeAll(subscriptions: readonly Subscription[]): () => void {
  const active = subscriptions.map(({ channel, listener }) => {
    const guarded = (message: unknown) => {
      try {
        ;(listener as (message: unknown) => void)(message)
      } catch (error) {
        diag.error(`@oauth-m2m/opentelemetry: recording ${channel} failed`, error)
      }
    }
    diagnostics_channel.subscribe(channel, guarded)
    return { channel, guarded }
  })
  let subscribed = true
  return () => {
    if (!subscribed) return
    subscribed = false
    for (const { channel, guarded } of active) diagnostics_channel.unsubscribe(channel, guarded)
  }
}
