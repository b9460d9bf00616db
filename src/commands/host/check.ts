import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../base-command.js'
import {type HostCheck, checkHost} from '../../hosts.js'
import {table} from '../../render.js'
import type {Host} from '../../store/hosts.js'

export default class HostCheckCommand extends BaseCommand<typeof HostCheckCommand> {
  static summary = 'Check that a host works: ssh without a prompt, tmux 3.2 or newer; say what to fix.'
  static description = 'Exits 1 when a check fails.'
  static examples = ['<%= config.bin %> <%= command.id %> build']
  static args = {name: Args.string({description: 'Host name', required: true})}

  async run(): Promise<{host: Host; ok: boolean; checks: HostCheck[]}> {
    const result = await checkHost(this.args.name, this.context)
    if (!this.jsonEnabled()) {
      this.log(table(['CHECK', 'OK', 'DETAIL'], result.checks.map((check) => [check.name, check.ok ? 'ok' : 'FAIL', check.fix ? `${check.detail}; fix: ${check.fix}` : check.detail])))
    }
    if (!result.ok) process.exitCode = 1
    return result
  }
}
