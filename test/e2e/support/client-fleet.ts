/**
 * A fleet of token-client processes (fleet-member.ts, each forked with tsx and the sources), for
 * the fleet e2e and the fleet bench: start N, tell them all to ask for tokens at once, stop them.
 * Every wait is bounded; `close()` ends every process it started.
 */
import { type ChildProcess, fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { FleetMemberCommand, FleetMemberConfig, FleetMemberMessage } from './fleet-member.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const memberScript = fileURLToPath(new URL('./fleet-member.ts', import.meta.url))

/** Longest wait for one answer of a member, in ms. */
const ANSWER_TIMEOUT_MS = 30_000
/**
 * Longest wait for a member to start, in ms: tsx compiles the sources in each process, which on a
 * small, busy machine takes seconds per process.
 */
const READY_TIMEOUT_MS = 120_000

/** What one member's burst yielded. */
export interface BurstResult {
  /** Digests of the distinct access tokens its callers got. */
  tokens: string[]
  /** Names of the errors its callers got. */
  failures: string[]
}

/** A running fleet. */
export interface ClientFleet {
  readonly size: number
  /** `callers` concurrent `getToken()` calls in every member at once; one result per member. */
  burst(callers: number, scope?: string): Promise<BurstResult[]>
  /** The unhandled rejections each member saw. */
  unhandledRejections(): Promise<string[]>
  /** Stops every member (SIGKILL after 5 s). */
  close(): Promise<void>
}

interface Member {
  child: ChildProcess
  ask<T extends FleetMemberMessage['type']>(
    command: FleetMemberCommand,
    answer: T,
  ): Promise<Extract<FleetMemberMessage, { type: T }>>
}

function waitFor<T extends FleetMemberMessage['type']>(
  child: ChildProcess,
  type: T,
  stderr: () => string,
  timeoutMs = ANSWER_TIMEOUT_MS,
): Promise<Extract<FleetMemberMessage, { type: T }>> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer)
      child.off('message', onMessage)
      child.off('exit', onExit)
    }
    const onMessage = (message: FleetMemberMessage) => {
      if (message.type !== type) return
      done()
      resolve(message as Extract<FleetMemberMessage, { type: T }>)
    }
    const onExit = (code: number | null) => {
      done()
      reject(new Error(`fleet member exited (${code}):\n${stderr()}`))
    }
    const timer = setTimeout(() => {
      done()
      reject(new Error(`fleet member did not answer ${type} within ${timeoutMs} ms:\n${stderr()}`))
    }, timeoutMs)
    child.on('message', onMessage)
    child.once('exit', onExit)
  })
}

async function startMember(config: FleetMemberConfig, started: ChildProcess[]): Promise<Member> {
  const child = fork(memberScript, [], {
    cwd: root,
    execArgv: ['--import', 'tsx', '--conditions', '@oauth-m2m/source'],
    env: { ...process.env, E2E_FLEET_MEMBER: JSON.stringify(config) },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  })
  started.push(child)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000)
  })
  await waitFor(child, 'ready', () => stderr, READY_TIMEOUT_MS)
  return {
    child,
    ask(command, answer) {
      const answered = waitFor(child, answer, () => stderr)
      child.send(command)
      return answered
    },
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Starts `size` members with `config` and waits until each is ready (its store connected). */
export async function startClientFleet(size: number, config: FleetMemberConfig): Promise<ClientFleet> {
  const started: ChildProcess[] = []
  const close = async () => {
    await Promise.all(
      started.map(async (child) => {
        if (child.connected) child.send({ type: 'stop' } satisfies FleetMemberCommand)
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
        await exited(child)
        clearTimeout(timer)
      }),
    )
  }
  let members: Member[]
  try {
    members = await Promise.all(Array.from({ length: size }, () => startMember(config, started)))
  } catch (error) {
    await close()
    throw error
  }
  return {
    size,
    burst: (callers, scope) =>
      Promise.all(
        members.map((m) =>
          m.ask({ type: 'burst', callers, ...(scope === undefined ? {} : { scope }) }, 'burst'),
        ),
      ).then((answers) => answers.map(({ tokens, failures }) => ({ tokens, failures }))),
    unhandledRejections: () =>
      Promise.all(members.map((m) => m.ask({ type: 'report' }, 'report'))).then((reports) =>
        reports.flatMap((r) => r.unhandledRejections),
      ),
    close,
  }
}
