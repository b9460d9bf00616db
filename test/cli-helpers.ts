import assert from 'node:assert/strict'

import {type CliResult, sandbox} from './helpers.js'

export type Box = ReturnType<typeof sandbox>

/** Session names on the box's tmux server, asked of tmux itself; no server means none. */
export function sessionNames(box: Box): string[] {
  try {
    return box.tmux(['list-sessions', '-F', '#{session_name}']).split('\n').filter(Boolean).sort()
  } catch {
    return []
  }
}

/** Starts an agent through the CLI and fails the test with maestro's stderr when it could not. */
export async function startAgent(box: Box, name: string, command = 'sleep 1000', args: string[] = []): Promise<void> {
  const result = await box.cli(['new', name, '--cmd', command, ...args])
  assert.equal(result.code, 0, `maestro new ${name}: ${result.stderr}`)
}

export function parseJson<T = any>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T
  } catch {
    throw new Error(`stdout is not JSON (exit ${result.code}): ${result.stdout}\nstderr: ${result.stderr}`)
  }
}

/** A `--json` failure: the stable error object on stdout and the matching exit code. */
export function assertJsonError(result: CliResult, code: string, exitCode: number): {code: string; message: string; exitCode: number} {
  const {error} = parseJson<{error: {code: string; message: string; exitCode: number}}>(result)
  assert.equal(error.code, code, result.stdout)
  assert.equal(error.exitCode, exitCode)
  assert.equal(typeof error.message, 'string')
  assert.ok(error.message.length > 0)
  assert.equal(result.code, exitCode)
  return error
}

/** A human failure: exactly one line on stderr naming the code, nothing on stdout. */
export function assertHumanError(result: CliResult, code: string, exitCode: number, message?: RegExp): string {
  assert.equal(result.code, exitCode, `exit code; stderr: ${result.stderr}`)
  const lines = result.stderr.trimEnd().split('\n')
  assert.equal(lines.length, 1, `one line on stderr, got: ${result.stderr}`)
  assert.match(lines[0], new RegExp(`^Error: .+ \\[${code}\\]$`))
  if (message) assert.match(lines[0], message)
  assert.equal(result.stdout, '')
  return lines[0]
}
