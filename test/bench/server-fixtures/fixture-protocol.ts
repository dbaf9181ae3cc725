/**
 * The child side of the bench fixtures' IPC protocol. A fixture is a server in its own process so
 * that its CPU time can be read from inside it (`process.cpuUsage()`), apart from the load
 * generator's. Messages: the child sends `{ type: 'ready', url }`; the parent asks
 * `{ type: 'cpu' }` and gets `{ type: 'cpu', usage }`; `{ type: 'stop' }` (or the parent going
 * away) closes the server and exits, which also lets `--cpu-prof` write its profile.
 */

/** A message from the bench to a fixture. */
export type ParentMessage = { type: 'cpu' } | { type: 'stop' }

/** A message from a fixture to the bench. */
export type FixtureMessage = { type: 'ready'; url: string } | { type: 'cpu'; usage: NodeJS.CpuUsage }

function send(message: FixtureMessage): void {
  process.send?.(message)
}

/**
 * Announces the listening server at `url` to the bench and serves its requests for CPU figures
 * until told to stop.
 */
export function serveFixture(url: string, close: () => Promise<void>): void {
  if (process.send === undefined)
    throw new Error('a bench fixture must be started with an IPC channel (fork)')
  let stopping = false
  const stop = () => {
    if (stopping) return
    stopping = true
    const exit = () => process.exit(0)
    close().then(exit, exit)
    // connections kept alive by the load generator must not hold the exit back
    setTimeout(exit, 2000).unref()
  }
  process.on('message', (message: ParentMessage) => {
    if (message.type === 'cpu') send({ type: 'cpu', usage: process.cpuUsage() })
    else if (message.type === 'stop') stop()
  })
  process.on('disconnect', stop)
  send({ type: 'ready', url })
}
