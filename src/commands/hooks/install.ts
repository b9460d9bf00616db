import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../base-command.js'
import {HOOK_PROGRAMS, type HookChange, hookScope, installHooks, parseHookProgram} from '../../hooks.js'
import {scopeFlags} from './status.js'

export default class HooksInstall extends BaseCommand<typeof HooksInstall> {
  static summary = "Make an agent program report its state to maestro through its own hooks."
  static description =
    'Merges maestro report hooks into the program’s settings file (a backup of the file is kept beside it); for opencode, writes a plugin file of maestro’s own. Installing twice changes nothing.'
  static examples = ['<%= config.bin %> <%= command.id %> claude', '<%= config.bin %> <%= command.id %> gemini --global', '<%= config.bin %> <%= command.id %> codex --project ~/src/shop']
  static args = {program: Args.string({description: `One of ${HOOK_PROGRAMS.join(', ')}`, required: true})}
  static flags = scopeFlags

  async run(): Promise<HookChange> {
    const result = await installHooks(parseHookProgram(this.args.program), hookScope(this.flags, this.context.home))
    if (!this.jsonEnabled()) {
      this.log(result.changed ? `installed in ${result.path}` : `already installed in ${result.path}`)
      if (result.backup) this.log(`backup: ${result.backup}`)
      this.log(result.note)
    }
    return result
  }
}
