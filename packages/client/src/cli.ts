#!/usr/bin/env node
/**
 * `m2m-token`: fetches one client_credentials access token and prints it, for scripts and for
 * poking at an authorization server. See `m2m-token --help` and the README for its flags and
 * exit statuses; the work is done in `cli/run`.
 *
 * @module cli
 */
import { runCli } from './cli/run.js'

process.exitCode = await runCli({
  argv: process.argv.slice(2),
  env: process.env,
  // Touched only when --client-secret-stdin reads it: an idle stdin is never opened.
  stdin: { [Symbol.asyncIterator]: () => process.stdin[Symbol.asyncIterator]() },
  stdout: process.stdout,
  stderr: process.stderr,
})
