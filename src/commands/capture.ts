import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {captureAgent} from '../agents.js'
import {BaseCommand} from '../base-command.js'

export default class Capture extends BaseCommand<typeof Capture> {
  static aliases = ['logs']
  static summary = "Print an agent's scrollback as plain text."
  static examples = ['<%= config.bin %> <%= command.id %> backend-api', '<%= config.bin %> <%= command.id %> backend-api --lines 50']
  static args = {name: Args.string({description: 'Agent name (HOST:NAME on a remote host)', required: true})}
  static flags = {
    lines: Flags.integer({char: 'l', summary: 'Only the last N lines.', min: 1}),
  }

  protected override tmuxMayBlock(): boolean {
    return true
  }

  async run(): Promise<{id: string; host: string | null; name: string; text: string}> {
    const {tmux, name} = await this.locate(this.args.name)
    const text = await captureAgent(tmux, name, {lines: this.flags.lines})
    if (!this.jsonEnabled()) process.stdout.write(text)
    return {id: this.args.name, host: tmux.host, name, text}
  }
}
