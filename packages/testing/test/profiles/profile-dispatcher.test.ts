/**
 * `as.dispatcher`: the provider's hosts lead to the test server (in process, or to its loopback
 * listener); every other host is reached as usual.
 */
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { request } from 'undici'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createProfileDispatcher, onHosts } from '../../src/profiles/profile-dispatcher.js'
import { loadUndici } from '../../src/undici-loader.js'

/** A loopback HTTP server that answers every request with its own name, method and URL. */
async function namedServer(name: string): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ name, method: req.method, url: req.url, host: req.headers.host }))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` }
}

describe('createProfileDispatcher', () => {
  let listener: { server: Server; url: string }
  let other: { server: Server; url: string }

  beforeAll(async () => {
    // A test server's creation loads undici; this suite builds dispatchers without one.
    await loadUndici()
    listener = await namedServer('listener')
    other = await namedServer('other')
  })
  afterAll(async () => {
    for (const s of [listener, other]) await new Promise((resolve) => s.server.close(resolve))
  })

  it('answers requests for the profile hosts in process, with the URL as the client sent it', async () => {
    const seen: string[] = []
    const dispatcher = createProfileDispatcher(onHosts(['login.microsoftonline.com']), {
      handle: async (req) => {
        seen.push(`${req.method} ${req.url}`)
        return Response.json({ answered: 'in-process' })
      },
    })
    const answer = await request('https://login.microsoftonline.com/t/discovery/v2.0/keys?x=1', {
      dispatcher,
    })
    expect(await answer.body.json()).toEqual({ answered: 'in-process' })
    expect(seen).toEqual(['GET https://login.microsoftonline.com/t/discovery/v2.0/keys?x=1'])
    await dispatcher.close()
  })

  it('sends requests for the profile hosts to the listener, keeping path and query', async () => {
    const dispatcher = createProfileDispatcher(onHosts(['acme.us.auth0.com']), { listenerUrl: listener.url })
    const answer = await request('https://acme.us.auth0.com/.well-known/jwks.json?a=b', { dispatcher })
    expect(await answer.body.json()).toMatchObject({
      name: 'listener',
      method: 'GET',
      url: '/.well-known/jwks.json?a=b',
    })
    await dispatcher.close()
  })

  it('reaches any other host as usual, in both modes', async () => {
    const inProcess = createProfileDispatcher(onHosts(['login.microsoftonline.com']), {
      handle: async () => Response.json({ answered: 'in-process' }),
    })
    const toListener = createProfileDispatcher(onHosts(['acme.us.auth0.com']), { listenerUrl: listener.url })
    for (const dispatcher of [inProcess, toListener]) {
      const answer = await request(`${other.url}/api/things`, { dispatcher })
      expect(await answer.body.json()).toMatchObject({ name: 'other', url: '/api/things' })
      await dispatcher.close()
    }
  })

  it('matches the host with its port: another port of the same host is not the profile’s', async () => {
    const port = new URL(other.url).port
    const dispatcher = createProfileDispatcher(onHosts([`127.0.0.1:${Number(port) + 1}`]), {
      handle: async () => Response.json({ answered: 'in-process' }),
    })
    const answer = await request(`${other.url}/x`, { dispatcher })
    expect(await answer.body.json()).toMatchObject({ name: 'other' })
    await dispatcher.close()
  })
})
