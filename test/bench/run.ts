/**
 * `pnpm bench [name…]`: runs every `*.bench.ts` beside this file (or those named), one after the
 * other so they do not compete for the two cores, and prints one table of figures and ratios.
 */
import { readdir } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type BenchModule, type BenchRow, printReport } from './harness.js'

const here = dirname(fileURLToPath(import.meta.url))
const wanted = process.argv.slice(2).filter((a) => a !== '--')
const files = (await readdir(here))
  .filter((f) => f.endsWith('.bench.ts'))
  .filter((f) => wanted.length === 0 || wanted.includes(f.replace(/\.bench\.ts$/, '')))
  .sort()

const rows: BenchRow[] = []
for (const file of files) {
  console.error(`running ${file} …`)
  const mod = (await import(join(here, file))) as BenchModule
  const got = await mod.run()
  printReport(got)
  console.log('')
  rows.push(...got)
}
console.log('summary')
printReport(rows)
