/**
 * Reading one field of a configuration or of client metadata: each reader either returns the
 * value or fails naming the field (`clients[1].scope`), and {@link validating} turns the first
 * failure into one {@link ConfigurationError}.
 *
 * @module field-validation
 */
import { ConfigurationError } from '@oauth-m2m/core'

/** A field that failed validation; {@link validating} turns it into a {@link ConfigurationError}. */
class InvalidField extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field} ${problem}`)
  }
}

/** Fails validation of `field`, saying what is wrong with it (`must be a positive integer`). */
export function fail(field: string, problem: string): never {
  throw new InvalidField(field, problem)
}

/**
 * Runs `validate`, reporting an invalid field as a ConfigurationError about `subject`.
 *
 * @throws {ConfigurationError} `invalid <subject>: <field> <problem>`.
 */
export function validating<T>(subject: string, validate: () => T): T {
  try {
    return validate()
  } catch (error) {
    if (error instanceof InvalidField) {
      throw new ConfigurationError(`invalid ${subject}: ${error.field} ${error.problem}`)
    }
    throw error
  }
}

/** Whether `value` is a non-array object. */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A non-empty string, or `undefined` when absent. */
export function optionalString(value: unknown, field: string): string | undefined {
  if (value === undefined) return undefined
  if (typeof value !== 'string' || value === '') fail(field, 'must be a non-empty string')
  return value
}

/** An array of non-empty strings. */
export function stringArray(value: unknown, field: string): string[] {
  if (!Array.isArray(value)) fail(field, 'must be an array of strings')
  value.forEach((item, i) => {
    if (typeof item !== 'string' || item === '') fail(`${field}[${i}]`, 'must be a non-empty string')
  })
  return value as string[]
}

/** A positive safe integer, or `fallback` when absent. */
export function positiveInt(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    fail(field, 'must be a positive integer')
  }
  return value
}

/** A safe integer ≥ 0, or `fallback` when absent. */
export function nonNegativeInt(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    fail(field, 'must be a non-negative integer')
  }
  return value
}
