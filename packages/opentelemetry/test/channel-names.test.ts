import { CLIENT_CHANNELS } from '@oauth-m2m/client'
import { JWKS_ERROR_CHANNEL, JWKS_FETCH_CHANNEL } from '@oauth-m2m/core'
import { SERVER_REQUEST_CHANNEL } from '@oauth-m2m/server'
import { INTROSPECTION_CHANNEL, REJECTION_CHANNEL, VERIFICATION_CHANNEL } from '@oauth-m2m/verifier'
import { describe, expect, it } from 'vitest'
import {
  CLIENT_CHANNEL_NAMES,
  JWKS_CHANNEL_NAMES,
  SERVER_CHANNEL_NAMES,
  VERIFIER_CHANNEL_NAMES,
} from '../src/channel-names.js'

/** Client channels with nothing to record: what they say is already on the fetch and cache channels. */
const NOT_RECORDED = ['refreshScheduled', 'refreshFailed']

describe('the channel names written out here', () => {
  it("are the client's, and cover every client channel but those left out on purpose", () => {
    for (const [event, name] of Object.entries(CLIENT_CHANNEL_NAMES)) {
      expect(CLIENT_CHANNELS[event as keyof typeof CLIENT_CHANNELS], event).toBe(name)
    }
    const uncovered = Object.keys(CLIENT_CHANNELS).filter((event) => !(event in CLIENT_CHANNEL_NAMES))
    expect(uncovered.sort()).toEqual([...NOT_RECORDED].sort())
  })

  it("are the verifier's, the server's and core's", () => {
    expect(VERIFIER_CHANNEL_NAMES).toEqual({
      introspection: INTROSPECTION_CHANNEL,
      rejection: REJECTION_CHANNEL,
      verification: VERIFICATION_CHANNEL,
    })
    expect(SERVER_CHANNEL_NAMES).toEqual({ request: SERVER_REQUEST_CHANNEL })
    expect(JWKS_CHANNEL_NAMES).toEqual({ fetch: JWKS_FETCH_CHANNEL, error: JWKS_ERROR_CHANNEL })
  })
})
