/**
 * The breaker shared by discovery and introspection, on an injected clock: fail fast within the
 * cooldown of a failure, then one probe whose outcome every caller arriving meanwhile shares.
 */
import { TemporarilyUnavailableError } from '@oauth-m2m/core'
import { describe, expect, it } from 'vitest'
import { FailureCooldown } from '../src/failure-cooldown.js'

const COOLDOWN_MS = 1_000

function deferred<T>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((res) => {
    resolve = res
  })
  return { promise, resolve }
}

describe('FailureCooldown', () => {
  it('reads time from the clock it is given', async () => {
    let clock = 5_000
    const breaker = new FailureCooldown(COOLDOWN_MS, 'the thing', () => clock)
    const failure = new Error('down')
    let calls = 0
    const failing = async () => {
      calls++
      throw failure
    }
    await expect(breaker.run(failing)).rejects.toBe(failure)
    clock += COOLDOWN_MS - 1
    const fast = await breaker.run(failing).catch((e: unknown) => e)
    expect(fast).toBeInstanceOf(TemporarilyUnavailableError)
    expect((fast as Error).message).toBe(
      'the thing failed recently; it is asked again after a 1000 ms cooldown',
    )
    expect((fast as Error).cause).toBe(failure)
    expect(calls).toBe(1)
    clock += 1
    await expect(breaker.run(async () => 'up')).resolves.toBe('up')
  })

  it('after the cooldown lets one probe through and holds the callers arriving meanwhile until it closes', async () => {
    let clock = 0
    const breaker = new FailureCooldown(COOLDOWN_MS, 'the thing', () => clock)
    await expect(breaker.run(() => Promise.reject(new Error('down')))).rejects.toThrow('down')
    clock = COOLDOWN_MS
    const probe = deferred<string>()
    let calls = 0
    const call = () => {
      calls++
      return calls === 1 ? probe.promise : Promise.resolve('after')
    }
    const callers = [breaker.run(call), breaker.run(call), breaker.run(call)]
    await new Promise((resolve) => setImmediate(resolve))
    expect(calls).toBe(1)
    probe.resolve('probe')
    await expect(Promise.all(callers)).resolves.toEqual(['probe', 'after', 'after'])
  })
})
