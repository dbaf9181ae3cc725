// Registered with `node --import`: records the files of npm packages each import resolves to, and prints
// them as JSON when the process exits, so a test can see what importing an entry point loads.
import { register } from 'node:module'
import { MessageChannel } from 'node:worker_threads'

const { port1, port2 } = new MessageChannel()
const loaded = new Set()
port1.on('message', (name) => loaded.add(name))
port1.unref()
register('./record-packages-hooks.mjs', import.meta.url, { data: { port: port2 }, transferList: [port2] })
process.on('exit', () => {
  process.stdout.write(`\n${JSON.stringify([...loaded].sort())}\n`)
})
