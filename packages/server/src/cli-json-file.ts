/**
 * Reading the CLI's JSON files (config file, keys file): a syntax error is reported with its line
 * and column and what was expected there, never with the text around it (a config file holds
 * client secrets; V8's own message quotes the file).
 *
 * @module cli-json-file
 */
import { readFile } from 'node:fs/promises'
import { CliError, fileErrorCode } from './cli-error.js'

/** Where a JSON text stops being JSON, and what was expected there. */
export interface JsonSyntaxError {
  /** Offset in the text, in UTF-16 code units. */
  offset: number
  /** 1-based line. */
  line: number
  /** 1-based column, in characters. */
  column: number
  /** What was expected, in words (`expected "," or "}"`), never quoting the text. */
  problem: string
}

class Stop {
  constructor(
    readonly offset: number,
    readonly problem: string,
  ) {}
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r'])
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't'])
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const HEX4 = /[0-9a-fA-F]{4}/y

/** Walks RFC 8259's grammar (iteratively: nesting depth costs no stack) and stops at the first error. */
function scan(text: string): void {
  let i = 0
  const skip = (): void => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++
  }
  const expect = (what: string): never => {
    throw new Stop(i, i >= text.length ? `unexpected end of file, expected ${what}` : `expected ${what}`)
  }
  const string = (): void => {
    i++ // the opening quote
    for (;;) {
      if (i >= text.length) throw new Stop(i, 'unexpected end of file in a string')
      const c = text[i]!
      if (c === '"') {
        i++
        return
      }
      if (c < ' ') throw new Stop(i, 'a line break or control character inside a string (escape it)')
      if (c === '\\') {
        const next = text[i + 1]
        if (next === 'u') {
          HEX4.lastIndex = i + 2
          if (!HEX4.test(text)) throw new Stop(i, 'a \\u escape needs four hex digits')
          i += 6
        } else if (next !== undefined && ESCAPES.has(next)) i += 2
        else throw new Stop(i, 'an invalid escape in a string')
      } else i++
    }
  }
  /** One scalar value, or the opening of a container (returned: '{' or '['). */
  const valueStart = (): '{' | '[' | undefined => {
    skip()
    const c = text[i]
    if (c === '{' || c === '[') {
      i++
      return c
    }
    if (c === '"') {
      string()
      return undefined
    }
    for (const literal of ['true', 'false', 'null']) {
      if (text.startsWith(literal, i)) {
        i += literal.length
        return undefined
      }
    }
    NUMBER.lastIndex = i
    if (c !== undefined && (c === '-' || (c >= '0' && c <= '9')) && NUMBER.test(text)) {
      i = NUMBER.lastIndex
      return undefined
    }
    return expect('a value (an object, array, "string", number, true, false or null)')
  }
  const key = (): void => {
    skip()
    if (text[i] !== '"') expect('a property name in double quotes')
    string()
    skip()
    if (text[i] !== ':') expect('":" after the property name')
    i++
  }

  const open: ('{' | '[')[] = []
  let container = valueStart()
  for (;;) {
    if (container !== undefined) {
      open.push(container)
      skip()
      const close = container === '{' ? '}' : ']'
      if (text[i] === close) {
        i++
        open.pop()
      } else {
        if (container === '{') key()
        container = valueStart()
        continue
      }
    }
    // A value just ended: what may follow it depends on the innermost open container.
    const inner = open.at(-1)
    if (inner === undefined) break
    skip()
    const close = inner === '{' ? '}' : ']'
    if (text[i] === close) {
      i++
      open.pop()
      container = undefined
      continue
    }
    if (text[i] !== ',') expect(`"," or "${close}"`)
    i++
    if (inner === '{') key()
    container = valueStart()
  }
  skip()
  if (i < text.length) throw new Stop(i, 'more text after the end of the JSON value')
}

/** Where `text` stops being JSON, or `undefined` when it is JSON. */
export function jsonSyntaxError(text: string): JsonSyntaxError | undefined {
  try {
    scan(text)
    return undefined
  } catch (error) {
    if (!(error instanceof Stop)) throw error
    const before = text.slice(0, error.offset)
    const lineStart = before.lastIndexOf('\n') + 1
    return {
      offset: error.offset,
      line: before.split('\n').length,
      column: [...text.slice(lineStart, error.offset)].length + 1,
      problem: error.problem,
    }
  }
}

/**
 * Reads and parses a JSON file. A UTF-8 byte order mark (which some editors write) is skipped.
 *
 * @param what What the file is, for messages: `config file server.json`.
 * @throws {CliError} naming the file when it cannot be read, or the line and column of a syntax
 *   error.
 */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    throw new CliError(`cannot read ${what}${fileErrorCode(error)}`)
  }
  if (text.startsWith('\uFEFF')) text = text.slice(1)
  try {
    return JSON.parse(text)
  } catch {
    const syntax = jsonSyntaxError(text)
    const where =
      syntax === undefined ? '' : ` at line ${syntax.line}, column ${syntax.column}: ${syntax.problem}`
    throw new CliError(`${what} is not valid JSON${where}`)
  }
}
