import {MaestroError} from './shared/errors.js'

/**
 * oclif's `command_not_found` hook: an unknown command is a usage error like any other, one line
 * `Error: … [UNKNOWN_COMMAND]` (or the JSON error with --json), exit 2.
 */
export async function commandNotFound(options: {id: string; argv?: string[]}): Promise<void> {
  const error = new MaestroError('UNKNOWN_COMMAND', `"${options.id}" is not a maestro command (maestro --help lists them)`, {command: options.id})
  process.exitCode = error.exit
  if (options.argv?.includes('--json')) {
    process.stdout.write(`${JSON.stringify({error: {...error.details, code: error.code, message: error.message, exitCode: error.exit}}, null, 2)}\n`)
  } else process.stderr.write(`Error: ${error.message} [${error.code}]\n`)
}
