/**
 * Shared pieces of `pnpm bench`: a measured figure is always reported beside a baseline taken in
 * the same run, because these machines are noisy and only the ratio is comparable across runs.
 */
import { performance } from 'node:perf_hooks'

/** One line of the bench report: a figure, the baseline it is compared with, and the target. */
export interface BenchRow {
  /** Section, e.g. `server`. */
  group: string
  /** What was measured. */
  name: string
  /** The figure. */
  value: number
  /** Its unit, e.g. `ops/s`, `req/s`, `µs CPU/req`, `requests`. */
  unit: string
  /** The figure it is compared with, measured in the same run. */
  baseline?: { name: string; value: number }
  /** `true` when a larger figure is better (throughput); `false` for costs such as CPU per request. */
  higherIsBetter?: boolean
  /** The target, in words, e.g. `≥ 3× oidc-provider`. */
  target?: string
  /** Whether the target was met, when it can be judged from these figures. */
  met?: boolean
}

/** A bench module: `test/bench/<name>.bench.ts` exports `run`. */
export type BenchModule = { run(): Promise<BenchRow[]> }

/** Options of {@link opsPerSecond}. */
export interface OpsOptions {
  /** Measured time, in milliseconds. Default 2 000. */
  durationMs?: number
  /** Unmeasured warm-up time, in milliseconds. Default 500. */
  warmupMs?: number
  /** Calls between clock reads (amortises `performance.now()`). Default 1 000. */
  batch?: number
}

async function loop(fn: () => unknown, ms: number, batch: number): Promise<number> {
  let calls = 0
  const start = performance.now()
  const end = start + ms
  let now = start
  while (now < end) {
    for (let i = 0; i < batch; i++) {
      const r = fn()
      if (r instanceof Promise) await r
    }
    calls += batch
    now = performance.now()
  }
  return calls / ((now - start) / 1000)
}

/** Calls `fn` back to back (awaiting it when it returns a promise) and returns calls per second. */
export async function opsPerSecond(fn: () => unknown, options: OpsOptions = {}): Promise<number> {
  const batch = options.batch ?? 1000
  await loop(fn, options.warmupMs ?? 500, batch)
  globalThis.gc?.()
  return loop(fn, options.durationMs ?? 2000, batch)
}

function fmt(n: number): string {
  if (n >= 100) return Math.round(n).toLocaleString('en-US')
  return n.toPrecision(3)
}

/** Prints the rows as an aligned table with the ratio of each figure to its baseline. */
export function printReport(rows: BenchRow[]): void {
  const lines = rows.map((r) => {
    const ratio = r.baseline ? r.value / r.baseline.value : undefined
    return [
      r.group,
      r.name,
      `${fmt(r.value)} ${r.unit}`,
      r.baseline ? `${r.baseline.name}: ${fmt(r.baseline.value)} ${r.unit}` : '',
      ratio === undefined ? '' : `${ratio.toFixed(2)}×`,
      r.target ? `${r.target}${r.met === undefined ? '' : r.met ? ' ✓' : ' ✗'}` : '',
    ]
  })
  const header = ['group', 'figure', 'value', 'baseline (same run)', 'ratio', 'target']
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)))
  const print = (cols: string[]) =>
    console.log(
      cols
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
  print(header)
  print(widths.map((w) => '-'.repeat(w)))
  for (const l of lines) print(l)
}
