/**
 * `pnpm demo`: runs the story once and exits 0; `pnpm demo --keep` leaves the servers running
 * and prints curl lines until Ctrl-C.
 *
 * @module main
 */
import { parseArgs } from 'node:util'
import { runDemo } from './run-demo.js'

const USAGE = 'usage: pnpm demo [--keep]   (--keep: leave the servers running and print curl lines)'

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

let keep = false
try {
  keep = parseArgs({ options: { keep: { type: 'boolean' } }, allowPositionals: true }).values.keep === true
} catch (error) {
  process.stderr.write(`${describe(error)}\n${USAGE}\n`)
  process.exit(2)
}

try {
  await runDemo({ keep })
} catch (error) {
  process.stderr.write(`demo failed: ${describe(error)}\n`)
  process.exitCode = 1
}
