import * as Args from '@oclif/core/args'

import {BaseCommand} from '../base-command.js'
import {renameAgentId} from '../hosts.js'
import type {Agent} from '../shared/agent.js'

export default class Rename extends BaseCommand<typeof Rename> {
  static summary = 'Rename an agent; its note follows it.'
  static examples = ['<%= config.bin %> <%= command.id %> api shop-backend-api']
  static args = {
    old: Args.string({description: 'Current name (HOST:NAME on a remote host)', required: true}),
    new: Args.string({description: 'New name (on the same host)', required: true}),
  }

  async run(): Promise<Agent> {
    const agent = await renameAgentId(this.tmux, this.context, this.args.old, this.args.new)
    if (!this.jsonEnabled()) this.log(`renamed ${this.args.old} to ${agent.id}`)
    return agent
  }
}
