import * as Flags from '@oclif/core/flags'

import {type KilledAgent, killAgent, listAgents} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {describeSettled} from './kill.js'
import {MaestroError} from '../shared/errors.js'

export default class KillAll extends BaseCommand<typeof KillAll> {
  static summary = "End every agent on maestro's tmux server, archiving each first."
  static description = 'Asks for confirmation on a terminal; elsewhere (scripts, --json) it needs --yes.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --yes']
  static flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (needed when not on a terminal).'}),
  }

  async run(): Promise<KilledAgent[]> {
    const agents = await listAgents(this.tmux)
    if (agents.length === 0) {
      if (!this.jsonEnabled()) this.log('no agents to kill')
      return []
    }
    if (!this.flags.yes) await this.confirm(agents.map((agent) => agent.name))
    const killed: KilledAgent[] = []
    const {Listr} = await import('listr2')
    const tasks = new Listr(
      agents.map((agent) => ({
        title: agent.name,
        task: async (_context: unknown, task: {title: string}) => {
          const result = await killAgent(this.tmux, agent.name)
          killed.push(result)
          task.title = `${agent.name}: archived to ${result.archive}${result.worktree ? `; ${describeSettled(result.worktree)}` : ''}`
        },
      })),
      {concurrent: false, exitOnError: false, renderer: this.jsonEnabled() ? 'silent' : process.stdout.isTTY ? 'default' : 'simple'},
    )
    await tasks.run()
    const failed = tasks.errors
    if (failed.length > 0) throw failed[0].error
    return killed
  }

  private async confirm(names: string[]): Promise<void> {
    const which = agentList(names)
    if (!process.stdin.isTTY || this.jsonEnabled()) {
      throw new MaestroError('CONFIRMATION_REQUIRED', `kill-all would end ${which}; pass --yes to confirm when not on a terminal`)
    }
    const {createInterface} = await import('node:readline/promises')
    const prompt = createInterface({input: process.stdin, output: process.stdout})
    const answer = await prompt.question(`End ${which}? Scrollback and notes are archived first. [y/N] `)
    prompt.close()
    if (!/^y(es)?$/i.test(answer.trim())) {
      this.log('nothing was killed')
      this.exit(1)
    }
  }
}

const NAMED = 5

/** "2 agents (api, web)", "9 agents (a, b, c, d, e and 4 more)". */
function agentList(names: string[]): string {
  const shown = names.slice(0, NAMED).join(', ')
  const rest = names.length - NAMED
  return `${names.length} agent${names.length === 1 ? '' : 's'} (${shown}${rest > 0 ? ` and ${rest} more` : ''})`
}
