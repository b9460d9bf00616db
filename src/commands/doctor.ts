import {BaseCommand} from '../base-command.js'
import {type Check, runChecks} from '../doctor.js'
import {table} from '../render.js'
import {MaestroError} from '../shared/errors.js'

export default class Doctor extends BaseCommand<typeof Doctor> {
  static summary = 'Check tmux, that maestro’s directories are private and writable, its notes file and the recorder (perl); say how to fix each problem.'
  static examples = ['<%= config.bin %> <%= command.id %>']

  async run(): Promise<{ok: boolean; checks: Check[]}> {
    const checks = await runChecks(this.tmux, this.context)
    const ok = checks.every((check) => check.ok)
    if (!this.jsonEnabled()) {
      this.log(table(['CHECK', 'OK', 'DETAIL'], checks.map((check) => [check.name, check.ok ? 'ok' : 'FAIL', check.fix ? `${check.detail}; fix: ${check.fix}` : check.detail])))
    }
    if (!ok) {
      const tmuxProblem = checks.find((check) => check.code)
      if (tmuxProblem?.code) {
        const error = new MaestroError(tmuxProblem.code, `tmux: ${tmuxProblem.detail}; ${tmuxProblem.fix}`)
        if (!this.jsonEnabled()) throw error
        process.exitCode = error.exit
      } else process.exitCode = 1
    }
    return {ok, checks}
  }
}
