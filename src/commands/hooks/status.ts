import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../base-command.js'
import {type HookStatus, hookScope, hookStatus} from '../../hooks.js'
import {table} from '../../render.js'

export const scopeFlags = {
  project: Flags.string({summary: "The project's settings (default: the current directory).", helpValue: 'DIR'}),
  global: Flags.boolean({summary: "Your user's settings, for every project."}),
}

export default class HooksStatus extends BaseCommand<typeof HooksStatus> {
  static summary = 'Show for each agent program whether its hooks report to maestro, and what they can report.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --global']
  static flags = scopeFlags

  async run(): Promise<HookStatus[]> {
    const statuses = await hookStatus(hookScope(this.flags, this.context.home))
    if (!this.jsonEnabled()) {
      this.log(table(['PROGRAM', 'HOOKS', 'FILE', 'REPORTS'], statuses.map((s) => [s.program, s.installed ? 'installed' : 'no', s.path, s.note])))
    }
    return statuses
  }
}
