import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {attachAgent} from '../agents.js'
import {BaseCommand} from '../base-command.js'

export default class Attach extends BaseCommand<typeof Attach> {
  static summary = 'Attach this terminal to an agent (detach with the tmux prefix, then d).'
  static description = 'Inside a maestro tmux client it switches that client to the agent instead of nesting.'
  static examples = ['<%= config.bin %> <%= command.id %> backend-api', '<%= config.bin %> <%= command.id %> backend-api --readonly']
  static args = {name: Args.string({description: 'Agent name (HOST:NAME on a remote host)', required: true})}
  static flags = {
    readonly: Flags.boolean({char: 'r', summary: 'Watch without being able to type.'}),
  }

  async run(): Promise<{id: string; host: string | null; name: string; readonly: boolean}> {
    const {tmux, name} = await this.locate(this.args.name)
    await attachAgent(tmux, name, {readonly: this.flags.readonly, tmuxClient: this.context.tmuxClient})
    return {id: this.args.name, host: tmux.host, name, readonly: this.flags.readonly}
  }
}
