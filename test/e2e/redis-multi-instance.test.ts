/**
 * Three server processes on one Redis behave as one server (issue 14): requests spread round-robin,
 * a token from one instance verifies with another's JWKS, a revocation at one holds at another, an
 * assertion spent at one is refused at another, a registration at one is usable at another within
 * a second, a rotation at one keeps every token of every instance verifiable, and a Redis outage
 * gives 503s (never 500s, no unhandled rejection) and heals by itself.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { randomBytes, randomUUID } from 'node:crypto'
import { createConnection } from 'node:net'
import { fileURLToPath } from 'node:url'
import {
  type CryptoKey,
  createLocalJWKSet,
  exportJWK,
  generateKeyPair,
  type JSONWebKeySet,
  type JWK,
  jwtVerify,
  SignJWT,
} from 'jose'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type RedisServer,
  startRedisServer,
  stopRedisServer,
} from '../../packages/redis/test/support/redis-server.js'
import type { InstanceCommand, InstanceConfig, InstanceMessage } from './support/redis-instance.js'

const ISSUER = 'http://as.multi-instance.test'
const RESOURCE = 'https://api.multi-instance.test'
const BASIC_ID = 'basic-client'
const BASIC_SECRET = randomBytes(24).toString('base64url')
const JWT_CLIENT_ID = 'assertion-client'
const root = fileURLToPath(new URL('../../', import.meta.url))
const instanceScript = fileURLToPath(new URL('./support/redis-instance.ts', import.meta.url))

interface Instance {
  name: string
  url: string
  child: ChildProcess
  ask<T extends InstanceMessage['type']>(
    command: InstanceCommand,
    answer: T,
  ): Promise<Extract<InstanceMessage, { type: T }>>
}

let redis: RedisServer
let instances: Instance[] = []
let assertionKey: CryptoKey
/** Every status any instance answered in this file: none may be a 500. */
const statuses: number[] = []
let turn = 0
/** The next instance, round-robin. */
const next = () => instances[turn++ % instances.length] as Instance

async function startInstance(name: string, config: InstanceConfig): Promise<Instance> {
  const child = fork(instanceScript, [], {
    cwd: root,
    execArgv: ['--import', 'tsx', '--conditions', '@oauth-m2m/source'],
    env: { ...process.env, E2E_REDIS_INSTANCE: JSON.stringify(config) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  const waitFor = <T extends InstanceMessage['type']>(type: T) =>
    new Promise<Extract<InstanceMessage, { type: T }>>((resolve, reject) => {
      const onMessage = (message: InstanceMessage) => {
        if (message.type === 'failed') reject(new Error(`${name}: ${message.message}`))
        if (message.type !== type) return
        child.off('message', onMessage)
        resolve(message as Extract<InstanceMessage, { type: T }>)
      }
      child.on('message', onMessage)
      child.once('exit', (code) => reject(new Error(`${name} exited (${code}):\n${stderr}`)))
    })
  const { url } = await waitFor('ready')
  return {
    name,
    url,
    child,
    ask(command, answer) {
      const answered = waitFor(answer)
      child.send(command)
      return answered
    },
  }
}

async function post(
  instance: Instance,
  path: string,
  fields: Record<string, string>,
  auth: 'basic' | 'none' = 'basic',
): Promise<{ status: number; body: Record<string, unknown> }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  if (auth === 'basic') {
    headers.authorization = `Basic ${Buffer.from(`${BASIC_ID}:${BASIC_SECRET}`).toString('base64')}`
  }
  const response = await fetch(`${instance.url}${path}`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(fields),
  })
  statuses.push(response.status)
  // A revocation answers 200 with an empty body (RFC 7009 §2.2).
  const text = await response.text()
  return { status: response.status, body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>) }
}

const tokenFields = { grant_type: 'client_credentials', scope: 'read', resource: RESOURCE }

async function basicToken(instance: Instance): Promise<string> {
  const { status, body } = await post(instance, '/token', tokenFields)
  expect(status, `${instance.name} /token: ${JSON.stringify(body)}`).toBe(200)
  return body.access_token as string
}

async function assertion(): Promise<string> {
  const now = Math.floor(Date.now() / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: 'ES256', kid: 'assertion-key', typ: 'client-authentication+jwt' })
    .setIssuer(JWT_CLIENT_ID)
    .setSubject(JWT_CLIENT_ID)
    .setAudience(ISSUER)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 60)
    .sign(assertionKey)
}

function assertionFields(clientAssertion: string): Record<string, string> {
  return {
    ...tokenFields,
    client_id: JWT_CLIENT_ID,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: clientAssertion,
  }
}

async function jwksOf(instance: Instance): Promise<JSONWebKeySet> {
  const response = await fetch(`${instance.url}/jwks`)
  statuses.push(response.status)
  return (await response.json()) as JSONWebKeySet
}

/** A verifier of this server's access tokens with the keys of `jwks`. */
function verifierOf(jwks: JSONWebKeySet): (token: string) => Promise<boolean> {
  const keys = createLocalJWKSet(jwks)
  return (token) =>
    jwtVerify(token, keys, { issuer: ISSUER, audience: RESOURCE, typ: 'at+jwt' }).then(
      () => true,
      () => false,
    )
}

const verifies = (token: string, jwks: JSONWebKeySet) => verifierOf(jwks)(token)

async function ready(instance: Instance): Promise<number> {
  const response = await fetch(`${instance.url}/readyz`)
  await response.body?.cancel()
  return response.status
}

/** Redis's count of commands processed so far (`INFO stats`), over a connection of its own. */
function commandsProcessed(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    let reply = ''
    socket.on('error', reject)
    socket.on('connect', () => socket.write('INFO stats\r\n'))
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8')
      const count = /total_commands_processed:(\d+)\r\n/.exec(reply)
      if (count) {
        socket.destroy()
        resolve(Number(count[1]))
      }
    })
  })
}

async function within(ms: number, attempt: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    if (await attempt()) return true
    if (Date.now() > deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

beforeAll(async () => {
  redis = await startRedisServer({ persistent: true })
  const keys = await generateKeyPair('ES256')
  assertionKey = keys.privateKey
  const publicJwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: 'assertion-key', alg: 'ES256' }
  const config: InstanceConfig = {
    redisUrl: redis.url,
    keyPrefix: 'multi:',
    keyEncryptionKey: randomBytes(32).toString('base64url'),
    issuer: ISSUER,
    clients: [
      { client_id: BASIC_ID, client_secret: BASIC_SECRET, scope: 'read' },
      {
        client_id: JWT_CLIENT_ID,
        token_endpoint_auth_method: 'private_key_jwt',
        jwks: { keys: [publicJwk] },
        scope: 'read',
      },
    ],
    resources: [{ resource: RESOURCE }],
  }
  // One after the other: the first creates the shared key set, the others load it.
  for (const name of ['A', 'B', 'C']) instances.push(await startInstance(name, config))
}, 60_000)

afterAll(async () => {
  await Promise.all(
    instances.map(async ({ child }) => {
      if (child.exitCode !== null) return
      const exited = new Promise((resolve) => child.once('exit', resolve))
      child.send({ type: 'stop' } satisfies InstanceCommand)
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
      await exited
      clearTimeout(timer)
    }),
  )
  instances = []
  await stopRedisServer(redis)
})

describe('three server processes on one Redis', () => {
  it('a token from A verifies with the JWKS of B and of C', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance]
    const token = await basicToken(a)
    expect(await verifies(token, await jwksOf(b))).toBe(true)
    expect(await verifies(token, await jwksOf(c))).toBe(true)
  })

  it('issues a JWT to a secret-authenticated client without a Redis command', async () => {
    const before = await commandsProcessed(redis.port)
    for (let i = 0; i < 60; i++) await basicToken(next())
    const commands = (await commandsProcessed(redis.port)) - before
    // Each token would have cost at least one; what is left is the INFO itself and the instances'
    // own background work (a key-set reload, a subscription ping).
    expect(commands).toBeLessThan(20)
  })

  it('a token revoked at B is inactive at C', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance]
    const token = await basicToken(a)
    expect((await post(c, '/introspect', { token })).body.active).toBe(true)
    expect((await post(b, '/revoke', { token })).status).toBe(200)
    expect((await post(c, '/introspect', { token })).body).toEqual({ active: false })
  })

  it('an assertion used at A is refused when replayed at B', async () => {
    const [a, b] = instances as [Instance, Instance, Instance]
    const fields = assertionFields(await assertion())
    expect((await post(a, '/token', fields, 'none')).status).toBe(200)
    const replay = await post(b, '/token', fields, 'none')
    expect(replay.status).toBe(401)
    expect(replay.body.error).toBe('invalid_client')
  })

  it('a client registered at A gets tokens at C within a second', async () => {
    const [a, , c] = instances as [Instance, Instance, Instance]
    const response = await fetch(`${a.url}/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token_endpoint_auth_method: 'client_secret_basic', scope: 'read' }),
    })
    statuses.push(response.status)
    expect(response.status).toBe(201)
    const registered = (await response.json()) as { client_id: string; client_secret: string }
    const basic = `Basic ${Buffer.from(`${registered.client_id}:${registered.client_secret}`).toString('base64')}`
    const usable = await within(1000, async () => {
      const token = await fetch(`${c.url}/token`, {
        method: 'POST',
        headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(tokenFields),
      })
      statuses.push(token.status)
      await token.body?.cancel()
      return token.status === 200
    })
    expect(usable).toBe(true)
  })

  it('after a rotation at C, 1,000 tokens from all three verify, with the keys published before it too', async () => {
    const c = instances[2] as Instance
    const before = await Promise.all(instances.map(jwksOf))
    const { kid } = await c.ask({ type: 'rotate' }, 'rotated')
    // The key the rotation made current was published by every instance before the rotation.
    for (const jwks of before) expect(jwks.keys.map((key) => key.kid)).toContain(kid)

    const tokens: string[] = []
    for (let batch = 0; batch < 100; batch++) {
      tokens.push(...(await Promise.all(Array.from({ length: 10 }, () => basicToken(next())))))
    }
    const after = await Promise.all(instances.map(jwksOf))
    const verifiers = [...before, ...after].map(verifierOf)
    const unverified = []
    for (const [index, token] of tokens.entries()) {
      // Each token against one instance's keys from before the rotation and another's from after.
      const byOld = verifiers[index % 3] as (token: string) => Promise<boolean>
      const byNew = verifiers[3 + ((index + 1) % 3)] as (token: string) => Promise<boolean>
      if (!(await byOld(token)) || !(await byNew(token))) unverified.push(index)
    }
    expect(tokens).toHaveLength(1000)
    expect(unverified).toEqual([])
    const kids = new Set(
      tokens.map((token) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid),
    )
    expect(kids).toContain(kid)
  }, 120_000)

  it('Redis stopped under load: only 200s and 503s, then 200s again once it is back', async () => {
    const seen: number[] = []
    let stopAt = Number.POSITIVE_INFINITY
    const load = async () => {
      // Bounded: at most 1,500 rounds, and no longer than the phases below need.
      for (let round = 0; round < 1500 && Date.now() < stopAt; round++) {
        const instance = next()
        const kind = round % 3
        const answer =
          kind === 0
            ? await post(instance, '/token', tokenFields)
            : kind === 1
              ? await post(instance, '/token', assertionFields(await assertion()), 'none')
              : await post(instance, '/token', { ...tokenFields }, 'basic').then(async ({ body }) =>
                  post(next(), '/introspect', { token: String(body.access_token) }),
                )
        seen.push(answer.status)
      }
    }
    const running = Promise.all([load(), load(), load()])
    await new Promise((resolve) => setTimeout(resolve, 500))
    await redis.stop()
    await new Promise((resolve) => setTimeout(resolve, 1500))
    await redis.start()
    for (const instance of instances) {
      expect(await within(10_000, async () => (await ready(instance)) === 200)).toBe(true)
    }
    const recoveredFrom = seen.length
    await new Promise((resolve) => setTimeout(resolve, 500))
    stopAt = 0
    await running
    expect(new Set(seen)).toEqual(new Set([200, 503]))
    // Once every instance said it was ready again, each request succeeded.
    expect(seen.slice(recoveredFrom + 9).filter((status) => status !== 200)).toEqual([])
    expect(seen.length - recoveredFrom).toBeGreaterThan(9)
  }, 60_000)

  it('while Redis is away: 503 where the store is needed, JWTs for secret clients still, never 500; back by itself', async () => {
    const [a, b, c] = instances as [Instance, Instance, Instance]
    const token = await basicToken(a)
    await redis.stop()

    // The hot path needs no store: a JWT for a secret-authenticated client.
    for (const instance of instances) expect((await post(instance, '/token', tokenFields)).status).toBe(200)
    const needStore = [
      await post(a, '/token', assertionFields(await assertion()), 'none'),
      await post(b, '/introspect', { token }),
      await post(c, '/revoke', { token }),
    ]
    for (const { status, body } of needStore) {
      expect(status).toBe(503)
      expect(body.error).toBe('temporarily_unavailable')
    }
    for (const instance of instances) expect(await ready(instance)).toBe(503)

    await redis.start()
    for (const instance of instances) {
      expect(await within(10_000, async () => (await ready(instance)) === 200)).toBe(true)
    }
    expect((await post(a, '/token', assertionFields(await assertion()), 'none')).status).toBe(200)
    expect((await post(b, '/introspect', { token })).body.active).toBe(true)
    expect((await post(c, '/revoke', { token })).status).toBe(200)
    expect((await post(a, '/introspect', { token })).body).toEqual({ active: false })

    expect(statuses.filter((status) => status >= 500 && status !== 503)).toEqual([])
    for (const instance of instances) {
      const report = await instance.ask({ type: 'report' }, 'report')
      expect(report.unhandledRejections, instance.name).toEqual([])
    }
  }, 60_000)
})
