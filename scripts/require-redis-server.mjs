// The first step of `pnpm test`: the tests of @oauth-m2m/redis and the multi-instance suites start a
// real `redis-server` (no mock). When it is missing: as root with apt-get (the Debian CI machine),
// install it; otherwise stop at once with the one command that installs it, rather than let dozens
// of tests fail one by one.
import { spawnSync } from 'node:child_process'

const INSTALL_LINE = 'sudo apt-get install -y redis-server'

/** Whether `command --version` runs. */
const runs = (command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0

if (runs('redis-server')) process.exit(0)

const isRoot = typeof process.getuid === 'function' && process.getuid() === 0
if (isRoot && runs('apt-get')) {
  process.stderr.write(
    'redis-server is missing: installing it (apt-get update && apt-get install -y redis-server)\n',
  )
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
  for (const args of [['update'], ['install', '-y', 'redis-server']]) {
    const step = spawnSync('apt-get', args, { stdio: 'inherit', env })
    if (step.status !== 0) {
      process.stderr.write(`apt-get ${args.join(' ')} failed (exit ${step.status ?? step.signal})\n`)
      process.exit(1)
    }
  }
  if (runs('redis-server')) process.exit(0)
  process.stderr.write('redis-server is still missing after apt-get install\n')
  process.exit(1)
}

process.stderr.write(`redis-server is missing: ${INSTALL_LINE}\n`)
process.exit(1)
