/**
 * `runCli` in this process, for what needs no child process: the matrix of usage errors, the exit
 * status of an unexpected failure, and the JSON and redaction of what goes to stderr.
 */
import { OAuthResponseError, TimeoutError } from '@oauth-m2m/core'
import { describe, expect, it } from 'vitest'
import { CliReport } from '../src/cli/cli-report.js'
import { EXIT_CODES, exitCodeFor } from '../src/cli/exit-codes.js'
import { type CliIo, runCli } from '../src/cli/run.js'

/** Runs the CLI in process; the token endpoint named is never reached by these cases. */
async function runInProcess(argv: string[], io: Partial<CliIo> = {}) {
  let stdout = ''
  let stderr = ''
  const code = await runCli({
    argv,
    env: { CLI_SECRET: 'in-process-secret' },
    stdin: (async function* () {})(),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    ...io,
  })
  return { code, stdout, stderr }
}

const BASE = ['--issuer', 'https://as.example.test', '--client-id', 'x', '--client-secret-env', 'CLI_SECRET']

describe('runCli usage errors (exit 2)', () => {
  it.each<[string[], RegExp]>([
    [['--client-id', 'x', '--client-secret-env', 'CLI_SECRET'], /give --issuer or --token-endpoint/],
    [['--issuer', 'https://as.example.test', '--client-secret-env', 'CLI_SECRET'], /give --client-id/],
    [[...BASE, '--auth-method', 'magic'], /unknown --auth-method magic/],
    [['--bogus'], /Unknown option '--bogus'/],
    [[...BASE, 'stray-value'], /unexpected argument: .*not shown/],
    [[...BASE, '--param', 'scope=read'], /--param cannot set scope: use --scope/],
    [[...BASE, '--param', 'audience=x'], /--param cannot set audience: use --audience/],
    [[...BASE, '--param', 'client_secret=x'], /--param cannot set client_secret: m2m-token sets it itself/],
    [[...BASE, '--param', 'grant_type=password'], /--param cannot set grant_type/],
    [[...BASE, '--param', 'novalue'], /--param takes NAME=VALUE/],
    [[...BASE, '--param', '=x'], /--param takes NAME=VALUE/],
    [[...BASE, '--param', 'a=1', '--param', 'a=2'], /--param a is given twice/],
    [[...BASE, '--timeout', '0'], /--timeout takes a number of seconds/],
    [[...BASE, '--timeout', '-1'], /--timeout takes a number of seconds|argument is ambiguous/],
    [[...BASE, '--timeout', '1e3'], /--timeout takes a number of seconds/],
    [[...BASE, '--timeout', '86401'], /--timeout takes a number of seconds/],
    [
      [...BASE, '--client-secret-stdin'],
      /give one of --client-secret-stdin, --client-secret-env, not several/,
    ],
    [
      [...BASE, '--client-secret-file', 'f', '--private-key', 'k'],
      /give one of --client-secret-file, --client-secret-env, --private-key, not several/,
    ],
    [
      ['--issuer', 'https://as.example.test', '--client-id', 'x', '--auth-method', 'client_secret_post'],
      /client_secret_post needs a secret: --client-secret-file PATH, --client-secret-stdin or --client-secret-env NAME/,
    ],
    [
      ['--issuer', 'https://as.example.test', '--client-id', 'x', '--auth-method', 'private_key_jwt'],
      /private_key_jwt needs --private-key FILE/,
    ],
    [
      [
        '--issuer',
        'https://as.example.test',
        '--client-id',
        'x',
        '--private-key',
        'k',
        '--auth-method',
        'client_secret_post',
      ],
      /--private-key is for private_key_jwt, not client_secret_post/,
    ],
  ])('%j', async (argv, message) => {
    const { code, stdout, stderr } = await runInProcess(argv)
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' })
    expect(stderr).toMatch(message)
    expect(stderr).toMatch(/\(see m2m-token --help\)\n$/)
  })

  it('never quotes what --client-secret-env was given when it is no variable name', async () => {
    const { code, stderr } = await runInProcess([
      '--issuer',
      'https://as.example.test',
      '--client-id',
      'x',
      '--client-secret-env',
      's3cr3t/with+symbols=',
    ])
    expect(code).toBe(2)
    expect(stderr).toMatch(/--client-secret-env takes the NAME of an environment variable/)
    expect(stderr).not.toContain('s3cr3t')
  })
})

describe('runCli configuration errors (exit 3)', () => {
  it('refuses more than 64 KiB on standard input', async () => {
    const { code, stderr } = await runInProcess(
      ['--issuer', 'https://as.example.test', '--client-id', 'x', '--client-secret-stdin'],
      {
        stdin: (async function* () {
          for (let i = 0; i < 100; i++) yield Buffer.alloc(1024, 'a')
        })(),
      },
    )
    expect(code).toBe(3)
    expect(stderr).toBe('m2m-token: standard input holds more than 65536 bytes: not a client secret\n')
  })
})

describe('runCli unexpected failures (exit 1)', () => {
  it('reports a failure that is no oauth-m2m error as unexpected, as text and as JSON', async () => {
    const failingStdin = {
      // biome-ignore lint/correctness/useYield: a stream that fails before it yields anything
      [Symbol.asyncIterator]: async function* () {
        throw new TypeError('the stream broke')
      },
    }
    const argv = ['--issuer', 'https://as.example.test', '--client-id', 'x', '--client-secret-stdin']
    const text = await runInProcess(argv, { stdin: failingStdin })
    expect(text).toEqual({ code: 1, stdout: '', stderr: 'm2m-token: unexpected error: the stream broke\n' })
    const json = await runInProcess([...argv, '--json'], { stdin: failingStdin })
    expect(json.code).toBe(1)
    expect(JSON.parse(json.stderr)).toEqual({
      error: { code: 'ERR_UNEXPECTED', message: 'the stream broke' },
    })
  })
})

describe('exitCodeFor', () => {
  it.each<[unknown, number]>([
    [new OAuthResponseError({ error: 'invalid_client', status: 401 }), EXIT_CODES.refused],
    [new OAuthResponseError({ error: 'temporarily_unavailable', status: 503 }), EXIT_CODES.unavailable],
    [new TimeoutError('slow', 10), EXIT_CODES.unavailable],
    [new Error('bug'), EXIT_CODES.unexpected],
    ['a string', EXIT_CODES.unexpected],
  ])('%s → %i', (error, code) => {
    expect(exitCodeFor(error)).toBe(code)
  })
})

describe('CliReport', () => {
  it('scrubs a protected secret from a JSON error, also where JSON would escape it', () => {
    let stderr = ''
    const report = new CliReport({ write: (text: string) => (stderr += text) }, { json: true })
    const secret = 'quote"and\\backslash-secret'
    report.protect([secret, 'short'])
    report.failure(new Error(`something echoed ${secret} and short`))
    expect(JSON.parse(stderr)).toEqual({
      error: { code: 'ERR_UNEXPECTED', message: 'something echoed [redacted] and short' },
    })
  })
})
