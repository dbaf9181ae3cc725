import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
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

  it('cover every channel any package publishes on, wherever it is named', () => {
    // Channel names as the packages' sources write them, so that a channel added to any package
    // without telemetry fails here rather than go unrecorded.
    const packages = fileURLToPath(new URL('../../', import.meta.url))
    const named = new Set<string>()
    for (const folder of readdirSync(packages).filter((name) => name !== 'opentelemetry')) {
      const src = join(packages, folder, 'src')
      for (const file of readdirSync(src, { recursive: true, encoding: 'utf8' })) {
        if (!file.endsWith('.ts')) continue
        for (const match of readFileSync(join(src, file), 'utf8').matchAll(/'(oauth-m2m:[a-z][a-z:.-]*)'/g))
          named.add(match[1] as string)
      }
    }
    const recorded = new Set<string>([
      ...Object.values(CLIENT_CHANNEL_NAMES),
      ...Object.values(VERIFIER_CHANNEL_NAMES),
      ...Object.values(SERVER_CHANNEL_NAMES),
      ...Object.values(JWKS_CHANNEL_NAMES),
      ...NOT_RECORDED.map((event) => CLIENT_CHANNELS[event as keyof typeof CLIENT_CHANNELS]),
    ])
    expect(named.size).toBeGreaterThanOrEqual(recorded.size)
    expect([...named].filter((name) => !recorded.has(name))).toEqual([])
  })
})
