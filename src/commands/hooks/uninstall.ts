import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../base-command.js'
import {HOOK_PROGRAMS, type HookChange, hookScope, parseHookProgram, uninstallHooks} from '../../hooks.js'
import {scopeFlags} from './status.js'

export default class HooksUninstall extends BaseCommand<typeof HooksUninstall> {
  static summary = "Remove maestro's hooks from an agent program's settings."
  static description = 'Only the maestro report entries go; a file that held nothing else is removed. A backup of the file is kept beside it.'
  static examples = ['<%= config.bin %> <%= command.id %> claude', '<%= config.bin %> <%= command.id %> codex --global']
  static args = {program: Args.string({description: `One of ${HOOK_PROGRAMS.join(', ')}`, required: true})}
  static flags = scopeFlags

  async run(): Promise<HookChange> {
    const result = await uninstallHooks(parseHookProgram(this.args.program), hookScope(this.flags, this.context.home))
    if (!this.jsonEnabled()) {
      this.log(result.changed ? `removed from ${result.path}` : `not installed in ${result.path}`)
      if (result.backup) this.log(`backup: ${result.backup}`)
    }
    return result
  }
}
