import * as Args from '@oclif/core/args'

import {restartAgent} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import type {Agent} from '../shared/agent.js'

export default class Restart extends BaseCommand<typeof Restart> {
  static summary = 'Run an exited agent\'s program again, in the same directory, with the same command, note and worktree.'
  static description = 'Refused with AGENT_RUNNING while the agent\'s program still runs.'
  static examples = ['<%= config.bin %> <%= command.id %> backend-api']
  static args = {name: Args.string({description: 'Agent name (HOST:NAME on a remote host)', required: true})}

  async run(): Promise<Agent> {
    const {tmux, name} = await this.locate(this.args.name)
    const agent = await restartAgent(tmux, this.context, name)
    if (!this.jsonEnabled()) this.log(`restarted ${agent.id} in ${agent.dir}`)
    return agent
  }
}
