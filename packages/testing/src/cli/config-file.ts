/**
 * The `--config FILE` of `m2m-test-server`: a JSON object of `startAuthorizationServer` options.
 *
 * @module cli/config-file
 */
import { readFile } from 'node:fs/promises'
import { CliError } from './cli-error.js'

/**
 * Reads `file` as a JSON object.
 *
 * @throws {CliError} when it cannot be read, is not JSON, or is not an object.
 */
export async function readConfigFile(file: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (error) {
    const code = (error as { code?: unknown }).code
    throw new CliError(`cannot read config file ${file}${typeof code === 'string' ? ` (${code})` : ''}`)
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new CliError(`config file ${file} is not valid JSON`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new CliError(`config file ${file} must hold a JSON object of startAuthorizationServer options`)
  }
  return parsed as Record<string, unknown>
}
