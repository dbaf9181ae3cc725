/**
 * Dynamic client registration: `POST` at the registration endpoint (RFC 7591) and `GET`, `PUT`,
 * `DELETE` at each client's `registration_client_uri` (RFC 7592), with the registration access
 * token as Bearer. Registrations live in the server store, so every instance on a shared store
 * sees them; each change is published as a `client` event, which drops cached copies.
 *
 * @module registration-endpoint
 */

import { SECRET_MEMBERS } from './client-metadata.js'
import type { ClientRegistry } from './client-registry.js'
import { type EndpointResponse, noStoreJson } from './http-response.js'
import type { RegistrationSettings } from './registration-config.js'
import { acceptMetadata, type MetadataError, type ValidateClient } from './registration-metadata.js'
import {
  clientInformation,
  newRecord,
  type RegistrationRecord,
  readRecord,
  updatedRecord,
} from './registration-record.js'
import {
  bearerToken,
  JsonBodyRoute,
  readJsonBody,
  refusedToken,
  registrationError,
  StoreCallFailed,
  storeCall,
} from './registration-route.js'
import { digestMatches, newClientId } from './registration-tokens.js'
import type { FormRequest, Route } from './server-core.js'
import type { ServerStore, StoredClient } from './server-store.js'

/** What {@link RegistrationEndpoint} needs. */
export interface RegistrationEndpointOptions {
  /** The registration endpoint's URL (`registration_endpoint`); client URIs are under it. */
  url: string
  settings: RegistrationSettings
  store: ServerStore
  /** Told of each change at once, before the store's event arrives. */
  registry: ClientRegistry
  /** The configuration's rules for a client. */
  validate: ValidateClient
  /** `realm` of `WWW-Authenticate: Bearer`. */
  realm: string
  now: () => number
  onInternalError: (error: unknown) => void
}

/** The routes a {@link RegistrationEndpoint} answers, for the server core's router. */
export interface RegistrationRoutes {
  /** The route of a request path, or `undefined` when the path is not one of registration. */
  route(method: string, path: string): Route | undefined
}

/** A client id as {@link newClientId} makes them; anything else is not looked up. */
const CLIENT_ID = /^[A-Za-z0-9_-]{22}$/

/**
 * Tries of an update whose compare-and-set keeps finding the client changed since it was read
 * (another update, or a deletion: the next try then answers 401), before answering 503.
 */
const UPDATE_TRIES = 3

/** An update lost its compare-and-set: the client was changed or deleted since it was read. */
const CHANGED_MEANWHILE = Symbol('changed meanwhile')

const POST_ONLY = { allow: 'POST' }
const CLIENT_METHODS = { allow: 'GET, PUT, DELETE' }

/** Answers a request to the configuration endpoint of the client `clientId`. */
type ClientHandler = (request: FormRequest, clientId: string) => Promise<EndpointResponse>

/** A client that proved its registration access token, and that token. */
interface Authorized {
  readonly record: RegistrationRecord
  /** The registration as the store returned it: what an update replaces by compare-and-set. */
  readonly stored: StoredClient
  readonly token: string
}

function metadataError(error: MetadataError): EndpointResponse {
  return registrationError(400, error.error, error.description)
}

/** Secret members the client sent; the server issues secrets, a client never chooses one. */
function chosenSecret(
  body: Readonly<Record<string, unknown>>,
  members: readonly string[],
): string | undefined {
  return members.find((name) => body[name] !== undefined && body[name] !== null)
}

/** The registration endpoint and the client configuration endpoints under it. */
export class RegistrationEndpoint implements RegistrationRoutes {
  readonly #options: RegistrationEndpointOptions
  readonly #path: string
  readonly #register: JsonBodyRoute
  readonly #manage: ReadonlyMap<string, ClientHandler>

  constructor(options: RegistrationEndpointOptions) {
    this.#options = options
    this.#path = new URL(options.url).pathname
    this.#register = new JsonBodyRoute(
      (request) => this.#registerClient(request),
      options.onInternalError,
      options.now,
    )
    this.#manage = new Map<string, ClientHandler>([
      ['GET', (request, clientId) => this.#read(request, clientId)],
      ['PUT', (request, clientId) => this.#update(request, clientId)],
      ['DELETE', (request, clientId) => this.#delete(request, clientId)],
    ])
  }

  route(method: string, path: string): Route | undefined {
    if (path === this.#path) {
      if (method === 'POST') return this.#register
      return registrationError(
        405,
        'invalid_request',
        'the registration endpoint accepts POST only',
        POST_ONLY,
      )
    }
    if (!path.startsWith(`${this.#path}/`)) return undefined
    const clientId = path.slice(this.#path.length + 1)
    if (clientId === '' || clientId.includes('/')) return undefined
    const handler = this.#manage.get(method)
    if (handler === undefined) {
      return registrationError(
        405,
        'invalid_request',
        'a client configuration endpoint accepts GET, PUT and DELETE',
        CLIENT_METHODS,
      )
    }
    // One route per request, holding the client id of its path (management is no hot path).
    const { onInternalError, now } = this.#options
    return new JsonBodyRoute((request) => handler(request, clientId), onInternalError, now)
  }

  #clientUri(clientId: string): string {
    return `${this.#options.url}/${clientId}`
  }

  async #registerClient(request: FormRequest): Promise<EndpointResponse> {
    const { settings, realm, validate } = this.#options
    const bearer = bearerToken(request.authorization)
    if (bearer.error) return bearer.error
    const digests = settings.initialAccessTokenDigests
    if (digests !== undefined) {
      if (bearer.token === undefined) {
        return refusedToken(realm, false, 'an initial access token is required to register a client')
      }
      if (!digestMatches(bearer.token, digests)) {
        return refusedToken(realm, true, 'the initial access token is not valid')
      }
    }
    const json = readJsonBody(request)
    if (json.error) return json.error
    const chosen = chosenSecret(json.body, SECRET_MEMBERS)
    if (chosen !== undefined) {
      return registrationError(
        400,
        'invalid_client_metadata',
        `${chosen} is issued by the server, not chosen by the client`,
      )
    }
    const clientId = newClientId()
    const accepted = acceptMetadata(json.body, clientId, settings, validate)
    if (accepted.error) return metadataError(accepted.error)
    const issued = newRecord(clientId, accepted.metadata, this.#options.now(), settings)
    await this.#save(issued.record)
    const uri = this.#clientUri(clientId)
    const body = clientInformation(issued.record, uri, issued.registrationAccessToken, issued.clientSecret)
    return noStoreJson(201, JSON.stringify(body), { location: uri })
  }

  /** The client `clientId` when the request carries its registration access token, else the 401. */
  async #authorize(request: FormRequest, clientId: string): Promise<Authorized | EndpointResponse> {
    const bearer = bearerToken(request.authorization)
    if (bearer.error) return bearer.error
    const { realm, store } = this.#options
    if (bearer.token === undefined)
      return refusedToken(realm, false, 'the registration access token is required')
    const stored = CLIENT_ID.test(clientId) ? await storeCall(() => store.findClient(clientId)) : undefined
    const record = stored === undefined ? undefined : readRecord(stored)
    // Compared even for an unknown client, so that the answer does not tell whether it exists.
    const matches = digestMatches(
      bearer.token,
      record === undefined ? [] : [record.registrationAccessTokenDigest],
    )
    if (!matches || record === undefined || record.client_id !== clientId) {
      // RFC 7592 §2.1: a client that does not exist (any more) is a 401 too.
      return refusedToken(realm, true, 'the registration access token is not valid for this client')
    }
    return { record, stored: stored as StoredClient, token: bearer.token }
  }

  async #read(request: FormRequest, clientId: string): Promise<EndpointResponse> {
    const authorized = await this.#authorize(request, clientId)
    if (!('record' in authorized)) return authorized
    // The secret is kept only as a digest: never shown again (RFC 7592 §3 lets it be left out).
    const body = clientInformation(authorized.record, this.#clientUri(clientId), authorized.token, undefined)
    return noStoreJson(200, JSON.stringify(body))
  }

  /**
   * RFC 7592 §2.2. Each try reads the client, checks the request against it and replaces it only
   * if it is unchanged, so that two updates made at once both take effect (two secret rotations:
   * the first secret stays valid for the grace period) and an update never brings back a client
   * deleted meanwhile.
   */
  async #update(request: FormRequest, clientId: string): Promise<EndpointResponse> {
    for (let tries = 1; ; tries++) {
      const answer = await this.#tryUpdate(request, clientId)
      if (answer !== CHANGED_MEANWHILE) return answer
      if (tries === UPDATE_TRIES) throw new StoreCallFailed()
    }
  }

  async #tryUpdate(
    request: FormRequest,
    clientId: string,
  ): Promise<EndpointResponse | typeof CHANGED_MEANWHILE> {
    const authorized = await this.#authorize(request, clientId)
    if (!('record' in authorized)) return authorized
    const { record, stored, token } = authorized
    const json = readJsonBody(request)
    if (json.error) return json.error
    const { body } = json
    if (body.client_id !== clientId) {
      return registrationError(
        400,
        'invalid_client_metadata',
        'client_id must be the client_id of this registration (RFC 7592 section 2.2)',
      )
    }
    const sentSecret = body.client_secret
    if (sentSecret !== undefined && sentSecret !== null) {
      const current = record.secret === undefined ? [] : [record.secret.digest]
      if (typeof sentSecret !== 'string' || !digestMatches(sentSecret, current)) {
        return registrationError(
          400,
          'invalid_client_metadata',
          'client_secret must be the current client secret: a client cannot choose its secret (send rotate_client_secret: true for a new one)',
        )
      }
    }
    const chosen = chosenSecret(
      body,
      SECRET_MEMBERS.filter((name) => name !== 'client_secret'),
    )
    if (chosen !== undefined) {
      return registrationError(
        400,
        'invalid_client_metadata',
        `${chosen} is issued by the server, not chosen by the client`,
      )
    }
    const rotate = body.rotate_client_secret ?? false
    if (typeof rotate !== 'boolean') {
      return registrationError(400, 'invalid_client_metadata', 'rotate_client_secret must be a boolean')
    }
    const { settings, validate } = this.#options
    const accepted = acceptMetadata(body, clientId, settings, validate)
    if (accepted.error) return metadataError(accepted.error)
    const updated = updatedRecord(record, accepted.metadata, this.#options.now(), settings, rotate)
    const { store } = this.#options
    if (!(await storeCall(() => store.replaceClient(stored, updated.record)))) return CHANGED_MEANWHILE
    await this.#announce(clientId)
    const information = clientInformation(
      updated.record,
      this.#clientUri(clientId),
      token,
      updated.clientSecret,
    )
    return noStoreJson(200, JSON.stringify(information))
  }

  async #delete(request: FormRequest, clientId: string): Promise<EndpointResponse> {
    const authorized = await this.#authorize(request, clientId)
    if (!('record' in authorized)) return authorized
    const { store } = this.#options
    await storeCall(() => store.deleteClient(clientId))
    await this.#announce(clientId)
    return { status: 204, headers: { 'cache-control': 'no-store', pragma: 'no-cache' }, body: '' }
  }

  /** Saves a new record and announces it; a full store is a 503 with its `Retry-After`. */
  async #save(record: RegistrationRecord): Promise<void> {
    const { store } = this.#options
    const full = await storeCall(() => store.saveClient(record))
    if (full !== undefined) throw new StoreCallFailed(full.fullUntilMs)
    await this.#announce(record.client_id)
  }

  /**
   * Tells this instance at once, and every other one through the store, that the client changed.
   * A failed publish fails nothing: the others see the change when their cached copy ages out.
   */
  async #announce(clientId: string): Promise<void> {
    const { registry, store, onInternalError } = this.#options
    registry.forget(clientId)
    try {
      await store.publish({ type: 'client', clientId })
    } catch (error) {
      try {
        onInternalError(error)
      } catch {
        // A failing logger must not fail a change that is already saved.
      }
    }
  }
}
