import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  clientSecretBasic,
  clientSecretPost,
  HttpError,
  OAuthResponseError,
  TimeoutError,
} from '@oauth-m2m/core'
import { errorFromAnswer, NO_REDACTION, postAuthenticatedForm } from '@oauth-m2m/core/internal'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

let server: Server
let url: string
let received: { contentType: string | undefined; authorization: string | undefined; body: string }[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString()
    })
    req.on('end', () => {
      received.push({
        contentType: req.headers['content-type'],
        authorization: req.headers.authorization,
        body,
      })
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`
})

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()))
})

const context = { clientId: 'svc', endpoint: 'http://127.0.0.1/token' }

describe('postAuthenticatedForm', () => {
  it('POSTs the form with the credentials the strategy adds, and returns the JSON answer with a redactor', async () => {
    received = []
    const answer = await postAuthenticatedForm(
      url,
      new URLSearchParams({ grant_type: 'client_credentials' }),
      {
        auth: clientSecretPost('s3cret'),
        context,
      },
    )
    expect(answer.status).toBe(200)
    expect(answer.body).toEqual({ ok: true })
    expect(received).toEqual([
      {
        contentType: 'application/x-www-form-urlencoded',
        authorization: undefined,
        body: 'grant_type=client_credentials&client_id=svc&client_secret=s3cret',
      },
    ])
    expect(answer.redactor.redact('echo s3cret')).toBe('echo [redacted]')
  })

  it('bounds client authentication by the same time limit: a secret source that never answers is a TimeoutError', async () => {
    received = []
    const error = await postAuthenticatedForm(url, new URLSearchParams(), {
      auth: clientSecretBasic(() => new Promise<string>(() => {})),
      context,
      timeoutMs: 50,
      purpose: 'token endpoint',
    }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TimeoutError)
    expect((error as TimeoutError).message).toMatch(/client authentication for the token endpoint/)
    expect(received).toEqual([])
  })

  it("rejects with the caller's reason when the caller aborts during client authentication", async () => {
    const controller = new AbortController()
    const pending = postAuthenticatedForm(url, new URLSearchParams(), {
      auth: clientSecretBasic(() => new Promise<string>(() => {})),
      context,
      signal: controller.signal,
    })
    controller.abort(new Error('caller gave up'))
    await expect(pending).rejects.toThrow('caller gave up')
  })
})

describe('errorFromAnswer', () => {
  it('reads an RFC 6749 §5.2 error object, scrubbed', () => {
    const error = errorFromAnswer(
      {
        status: 400,
        body: { error: 'invalid_scope', error_description: 'no s3cret', error_uri: 'https://x/s3cret' },
        retryAfterMs: 5,
      },
      { redact: ((text: string | undefined) => text?.replaceAll('s3cret', '[redacted]')) as never },
      'token endpoint',
    )
    expect(error).toBeInstanceOf(OAuthResponseError)
    expect(error).toMatchObject({
      error: 'invalid_scope',
      errorDescription: 'no [redacted]',
      errorUri: 'https://x/[redacted]',
      status: 400,
      retryAfterMs: 5,
    })
  })

  it('makes anything else an HttpError that quotes nothing of the body', () => {
    for (const body of [null, [], 'text', { error: '' }, { error: 42 }, { message: 'nope' }]) {
      const error = errorFromAnswer(
        { status: 502, body, retryAfterMs: undefined },
        NO_REDACTION,
        'token endpoint',
      )
      expect(error, JSON.stringify(body)).toBeInstanceOf(HttpError)
      expect(error.message).toBe('token endpoint answered 502 without an OAuth error object')
    }
  })
})
