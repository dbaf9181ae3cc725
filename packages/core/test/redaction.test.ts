import {
  type ClientAuthContext,
  type ClientAuthRequest,
  type ClientAuthStrategy,
  clientSecretBasic,
  clientSecretJwt,
  clientSecretPost,
  privateKeyJwt,
} from '@oauth-m2m/core'
import {
  applyClientAuth,
  createRedactor,
  formUrlEncode,
  NO_REDACTION,
  REDACTED,
} from '@oauth-m2m/core/internal'
import { generateKeyPair } from 'jose'
import { describe, expect, it } from 'vitest'

const SECRET = 'p@ss word:+%/&='
const context: ClientAuthContext = {
  clientId: 'svc a',
  endpoint: 'https://as.example/token',
  tokenEndpoint: 'https://as.example/token',
}

function newRequest(): ClientAuthRequest {
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams() }
}

describe('createRedactor', () => {
  it('removes a value raw, form-urlencoded and percent-encoded', () => {
    const { redact } = createRedactor([SECRET])
    const text = `a ${SECRET} b ${formUrlEncode(SECRET)} c ${encodeURIComponent(SECRET)} d`
    expect(redact(text)).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED} d`)
  })

  it('removes a compact JWT whole and by each segment', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJqdGkiOiIxMjMifQ.c2lnbmF0dXJlLWJ5dGVz'
    const [, payload, signature] = jwt.split('.')
    const { redact } = createRedactor([jwt])
    expect(redact(`got ${jwt}; bad signature ${signature}; claims ${payload}`)).toBe(
      `got ${REDACTED}; bad signature ${REDACTED}; claims ${REDACTED}`,
    )
  })

  it('passes undefined and text without credentials through, and ignores empty values', () => {
    const { redact } = createRedactor([SECRET, ''])
    expect(redact(undefined)).toBeUndefined()
    expect(redact('invalid_client: client authentication failed')).toBe(
      'invalid_client: client authentication failed',
    )
    expect(createRedactor([''])).toBe(NO_REDACTION)
    expect(createRedactor(['a.b'] /* regex characters are literal */).redact('aXb a.b')).toBe(
      `aXb ${REDACTED}`,
    )
  })
})

describe('applyClientAuth', () => {
  async function echoAfter(strategy: ClientAuthStrategy): Promise<{ echo: string; scrubbed: string }> {
    const request = newRequest()
    const redactor = await applyClientAuth(strategy, request, context)
    const echo = `sent ${JSON.stringify(request.headers)} ${request.body.toString()} ${[...request.body.values()].join(' ')}`
    return { echo, scrubbed: redactor.redact(echo) }
  }

  it('yields the Basic credential and the secret of client_secret_basic', async () => {
    const { echo, scrubbed } = await echoAfter(clientSecretBasic(SECRET))
    const credential = Buffer.from(`svc+a:${formUrlEncode(SECRET)}`).toString('base64')
    expect(echo).toContain(credential)
    expect(scrubbed).not.toContain(credential)
    const request = newRequest()
    const redactor = await applyClientAuth(clientSecretBasic(SECRET), request, context)
    expect(redactor.redact(`wrong secret ${SECRET}`)).toBe(`wrong secret ${REDACTED}`)
  })

  it('yields the secret of client_secret_post, raw and form-urlencoded', async () => {
    const { echo, scrubbed } = await echoAfter(clientSecretPost(SECRET))
    expect(echo).toContain(formUrlEncode(SECRET))
    expect(echo).toContain(SECRET)
    expect(scrubbed).not.toContain(formUrlEncode(SECRET))
    expect(scrubbed).not.toContain(SECRET)
    expect(scrubbed).toContain('client_id=svc+a') // not a credential
  })

  it.each([
    ['client_secret_jwt', () => Promise.resolve(clientSecretJwt('k'.repeat(32)))],
    ['private_key_jwt', async () => privateKeyJwt((await generateKeyPair('ES256')).privateKey)],
  ])('yields the assertion of %s and its segments', async (_, make) => {
    const request = newRequest()
    const redactor = await applyClientAuth(await make(), request, context)
    const assertion = request.body.get('client_assertion')!
    const [, payload, signature] = assertion.split('.')
    const scrubbed = redactor.redact(`${assertion} | ${payload} | ${signature} | ${request.body.toString()}`)
    for (const part of [assertion, payload!, signature!]) expect(scrubbed).not.toContain(part)
    expect(scrubbed).toContain('client_assertion_type=urn')
  })

  it('covers the secret client_secret_jwt signs with, though it never travels', async () => {
    const redactor = await applyClientAuth(clientSecretJwt(SECRET), newRequest(), context)
    expect(redactor.redact(`expected ${SECRET}`)).toBe(`expected ${REDACTED}`)
  })

  it('covers a strategy written elsewhere that declares nothing', async () => {
    const custom: ClientAuthStrategy = {
      method: 'client_secret_post',
      async apply(request) {
        request.headers['x-api-key'] = 'custom-key-123'
        request.headers.authorization = 'Bearer custom-token-456'
        request.body.set('client_id', 'svc a')
        request.body.set('client_secret', 'custom-secret-789')
      },
    }
    const redactor = await applyClientAuth(custom, newRequest(), context)
    expect(
      redactor.redact(
        'custom-key-123 custom-token-456 custom-secret-789 svc a application/x-www-form-urlencoded',
      ),
    ).toBe(`${REDACTED} ${REDACTED} ${REDACTED} svc a application/x-www-form-urlencoded`)
  })
})
