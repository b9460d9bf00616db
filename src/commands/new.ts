import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {createAgent} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import type {Agent} from '../shared/agent.js'
import {attachTerminal} from '../tmux/attach.js'

export default class New extends BaseCommand<typeof New> {
  static aliases = ['create']
  static summary = 'Start a new agent in its own tmux session.'
  static description =
    'The agent runs --cmd, else the defaultCommand setting, else your shell, in --dir (default: here). ' +
    'Names use letters, digits, "_" and "-"; hyphens group agents (shop-frontend-cart is shop › frontend › cart).'
  static examples = [
    '<%= config.bin %> <%= command.id %> backend-api --dir ~/src/shop --cmd claude --note "owns the orders API"',
    '<%= config.bin %> <%= command.id %> shop-frontend-cart --cmd aider --attach',
  ]
  static args = {name: Args.string({description: 'Agent name', required: true})}
  static flags = {
    dir: Flags.directory({char: 'd', summary: 'Working directory of the agent (must exist).'}),
    cmd: Flags.string({char: 'c', summary: 'Command line the agent runs.'}),
    note: Flags.string({char: 'n', summary: 'Initial note.'}),
    attach: Flags.boolean({char: 'a', summary: 'Attach this terminal to the agent once it started.'}),
  }

  async run(): Promise<Agent> {
    const agent = await createAgent(this.tmux, {
      name: this.args.name,
      dir: this.flags.dir,
      command: this.flags.cmd,
      note: this.flags.note,
    })
    if (!this.jsonEnabled()) this.log(`started ${agent.name} in ${agent.dir}`)
    if (this.flags.attach) await attachTerminal(this.tmux, agent.name)
    return agent
  }
}
