/**
 * The known name an unknown one was probably meant to be (`scpoe` → `scope`), for configuration
 * errors.
 *
 * @module did-you-mean
 */

/** Lower case without `_` and `-`: `tokenEndpointAuthMethod` and `token_endpoint_auth_method` agree. */
function folded(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '')
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment): `scpoe` is one edit from
 * `scope`. Stops early, answering `limit + 1`, once every alignment is past `limit`.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1
  let before: number[] = []
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    let best = i
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d = Math.min(d, before[j - 2]! + 1)
      row.push(d)
      best = Math.min(best, d)
    }
    if (best > limit) return limit + 1
    before = previous
    previous = row
  }
  return previous[b.length]!
}

/**
 * The known names closest to `name`: the same name in another case or with other separators,
 * else the nearest within one edit per three characters (at least one); several when equally
 * near. Empty when none is that close.
 */
export function closestNames(name: string, known: Iterable<string>): string[] {
  const target = folded(name)
  // Names are short; a pathologically long one is not a typo of any of them.
  if (target.length > 100) return []
  let limit = Math.max(1, Math.floor(target.length / 3))
  let best: string[] = []
  for (const candidate of known) {
    const distance = editDistance(target, folded(candidate), limit)
    if (distance < limit || (distance === limit && best.length === 0)) {
      best = [candidate]
      limit = distance
    } else if (distance === limit) best.push(candidate)
  }
  return best
}

/** ` (did you mean "scope"?)`, or `''` when no known name is close to `name`. */
export function didYouMean(name: string, known: Iterable<string>): string {
  const matches = closestNames(name, known).slice(0, 3)
  if (matches.length === 0) return ''
  return ` (did you mean ${matches.map((m) => `"${m}"`).join(' or ')}?)`
}
