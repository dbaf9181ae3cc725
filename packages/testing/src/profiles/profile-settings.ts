/**
 * Checks of a provider profile's settings before anything reads them: a member the profile does
 * not have, or one of the wrong type or shape, is a `ConfigurationError` naming it (never a
 * `TypeError` from deep inside, never silently ignored). The verifier presets check the rest
 * (a tenant id that is no GUID, a region, …) with their own errors.
 *
 * @module profiles/profile-settings
 */
import { ConfigurationError } from '@oauth-m2m/core'
import { isAbsoluteUriWithoutFragment } from '@oauth-m2m/core/internal'

const HOST_NAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i
/** Characters that cannot stand in a URL path segment, a scope token or a host name as they are. */
const URL_BREAKING = /[\s/?#%@\\\p{Cc}]/u

/** The shapes a text setting may be required to have. */
export type TextShape =
  /** Any non-empty string. */
  | 'text'
  /** A non-empty string that can stand in a URL path segment as it is. */
  | 'segment'
  /** A host name such as `tenant.example.com`, without scheme, port or path. */
  | 'host'
  /** A GUID. */
  | 'guid'
  /** An absolute URI without a fragment. */
  | 'uri'
  /** A non-empty string without whitespace (it becomes part of a scope token). */
  | 'token'
  /** A DNS label of lower-case letters, digits and inner hyphens (a host name's first part). */
  | 'label'

const SHAPE_RULES: Readonly<Record<TextShape, { test: (value: string) => boolean; says: string }>> = {
  text: { test: () => true, says: 'a non-empty string' },
  segment: {
    test: (value) => !URL_BREAKING.test(value),
    says: 'a non-empty string without whitespace, "/", "?", "#", "%", "@" or "\\"',
  },
  host: {
    test: (value) => HOST_NAME.test(value),
    says: 'a host name such as tenant.example.com (no scheme, port or path)',
  },
  guid: { test: (value) => GUID.test(value), says: 'a GUID' },
  uri: { test: isAbsoluteUriWithoutFragment, says: 'an absolute URI without a fragment' },
  token: { test: (value) => !/[\s\p{Cc}"\\]/u.test(value), says: 'a non-empty string without whitespace' },
  label: {
    test: (value) => /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(value),
    says: 'lower-case letters, digits and hyphens, not at either end (at most 63)',
  },
}

/** The settings of one profile, checked member by member. */
export class ProfileSettingsCheck {
  readonly #profile: string
  readonly #settings: Readonly<Record<string, unknown>>

  /**
   * @param members Every setting the profile has besides `name`.
   * @throws {ConfigurationError} naming the first member that is not one of `members`.
   */
  constructor(profile: string, settings: object, members: readonly string[]) {
    this.#profile = profile
    this.#settings = settings as Record<string, unknown>
    for (const name of Object.keys(settings)) {
      if (name !== 'name' && !members.includes(name)) {
        this.#fail(name, `is not a setting of this profile; its settings are ${members.join(', ')}`)
      }
    }
  }

  /**
   * The text setting `member`, or `undefined` when it is left out.
   *
   * @throws {ConfigurationError} when it is not a string of `shape`.
   */
  text(member: string, shape: TextShape = 'text'): string | undefined {
    const value = this.#settings[member]
    if (value === undefined) return undefined
    const rule = SHAPE_RULES[shape]
    if (typeof value !== 'string' || value === '' || !rule.test(value))
      this.#fail(member, `must be ${rule.says}`)
    return value
  }

  /**
   * The boolean setting `member`, or `undefined` when it is left out.
   *
   * @throws {ConfigurationError} when it is not a boolean.
   */
  boolean(member: string): boolean | undefined {
    const value = this.#settings[member]
    if (value !== undefined && typeof value !== 'boolean') this.#fail(member, 'must be true or false')
    return value as boolean | undefined
  }

  /**
   * The setting `member`, one of `values`, or `undefined` when it is left out.
   *
   * @throws {ConfigurationError} when it is none of them.
   */
  oneOf<T extends string>(member: string, values: readonly T[]): T | undefined {
    const value = this.#settings[member]
    if (value !== undefined && !(values as readonly unknown[]).includes(value)) {
      this.#fail(member, `must be one of ${values.join(', ')}`)
    }
    return value as T | undefined
  }

  #fail(member: string, rule: string): never {
    throw new ConfigurationError(`@oauth-m2m/testing: profile ${this.#profile}: ${member} ${rule}`)
  }
}
