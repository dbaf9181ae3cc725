import diagnostics_channel from 'node:diagnostics_channel'
import { clientSecretPost, HttpError, OAuthResponseError } from '@oauth-m2m/core'
import { HttpResponse } from 'msw'
import { afterEach, describe, expect, it } from 'vitest'
import { CLIENT_CHANNELS, createTokenClient, type FetchErrorMessage, type TokenClient } from '../src/index.js'
import { type Answer, scriptedTokenServer, TOKEN_ENDPOINT } from './msw-token-server.js'

const SECRET = 'fetch-error-s3cret'

const clients: TokenClient[] = []
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()))
})

/** The fetch:error messages published while a client gets a token from a server answering `answer`. */
async function fetchErrors(answer: Answer): Promise<{ error: unknown; messages: FetchErrorMessage[] }> {
  const server = scriptedTokenServer(answer)
  const client = createTokenClient({
    tokenEndpoint: TOKEN_ENDPOINT,
    clientId: 'service-a',
    auth: clientSecretPost(SECRET),
    dispatcher: server.dispatcher,
    retry: { minDelayMs: 1, maxDelayMs: 2, retries: 1 },
  })
  clients.push(client)
  const messages: FetchErrorMessage[] = []
  const listener = (m: unknown) => messages.push(m as FetchErrorMessage)
  diagnostics_channel.subscribe(CLIENT_CHANNELS.fetchError, listener)
  try {
    const error = await client.getToken().catch((e: unknown) => e)
    return { error, messages }
  } finally {
    diagnostics_channel.unsubscribe(CLIENT_CHANNELS.fetchError, listener)
  }
}

describe('oauth-m2m:client:fetch:error', () => {
  it('names the OAuth error code and HTTP status the token endpoint answered', async () => {
    const { error, messages } = await fetchErrors(() =>
      HttpResponse.json({ error: 'invalid_client', error_description: 'bad client' }, { status: 401 }),
    )
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect(messages).toHaveLength(1)
    expect(messages[0]).toMatchObject({ oauthError: 'invalid_client', status: 401, attempts: 1 })
  })

  it('never carries a secret the server echoed, in the code or anywhere else', async () => {
    const { messages } = await fetchErrors(() =>
      HttpResponse.json(
        { error: `invalid_client ${SECRET}`, error_description: `wrong secret ${SECRET}` },
        { status: 401 },
      ),
    )
    expect(messages).toHaveLength(1)
    expect(messages[0]!.oauthError).toBe('invalid_client [redacted]')
    expect(JSON.stringify(messages)).not.toContain(SECRET)
  })

  it('gives the status alone for an answer that is not an OAuth error object', async () => {
    const { error, messages } = await fetchErrors(
      () =>
        new HttpResponse('<html>bad gateway</html>', {
          status: 502,
          headers: { 'content-type': 'text/html' },
        }),
    )
    expect(error).toBeInstanceOf(HttpError)
    expect(messages).toHaveLength(1)
    expect(messages[0]!.status).toBe(502)
    expect(messages[0]).not.toHaveProperty('oauthError')
  })

  it('gives neither when no answer arrived', async () => {
    const { messages } = await fetchErrors(() => Response.error())
    expect(messages).toHaveLength(1)
    expect(messages[0]).not.toHaveProperty('status')
    expect(messages[0]).not.toHaveProperty('oauthError')
  })
})
