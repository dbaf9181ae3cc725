import { abortable } from '@oauth-m2m/core/internal'
import { describe, expect, it } from 'vitest'

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('abortable', () => {
  it('lets one waiter leave without cancelling the shared work', async () => {
    const shared = deferred<number>()
    const controller = new AbortController()
    const leaving = abortable(shared.promise, controller.signal)
    controller.abort(new Error('left'))
    await expect(leaving).rejects.toThrow('left')
    shared.resolve(7)
    await expect(abortable(shared.promise, new AbortController().signal)).resolves.toBe(7)
  })

  it('rejects at once for a signal that is already aborted', async () => {
    const reason = new Error('already')
    await expect(abortable(deferred<number>().promise, AbortSignal.abort(reason))).rejects.toBe(reason)
  })

  it('passes the shared outcome through, failure included, and returns the promise itself without a signal', async () => {
    const shared = deferred<number>()
    expect(abortable(shared.promise, undefined)).toBe(shared.promise)
    const waiting = abortable(shared.promise, new AbortController().signal)
    shared.reject(new Error('boom'))
    await expect(waiting).rejects.toThrow('boom')
  })
})
