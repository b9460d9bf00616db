import * as Flags from '@oclif/core/flags'

import {type KilledAgent, listAgents} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {killEveryAgent, listEveryAgent} from '../hosts.js'
import type {Agent} from '../shared/agent.js'
import {MaestroError} from '../shared/errors.js'
import {reportKills} from './kill.js'

export default class KillAll extends BaseCommand<typeof KillAll> {
  static summary = "End every agent on maestro's tmux server, archiving each first."
  static description =
    'Asks for confirmation on a terminal; elsewhere (scripts, --json) it needs --yes. Remote hosts are left alone unless --all-hosts is given; a host that does not answer is named on stderr.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --yes', '<%= config.bin %> <%= command.id %> --all-hosts --yes']
  static flags = {
    yes: Flags.boolean({char: 'y', summary: 'Do not ask for confirmation (needed when not on a terminal).'}),
    'all-hosts': Flags.boolean({summary: 'End the agents of every remote host too.'}),
  }

  async run(): Promise<KilledAgent[]> {
    const agents = await this.targets()
    if (agents.length === 0) {
      if (!this.jsonEnabled()) this.log('no agents to kill')
      return []
    }
    if (!this.flags.yes) await this.confirm(agents.map((agent) => agent.id))
    return reportKills(this, () => killEveryAgent(this.tmux, this.context, agents))
  }

  private async targets(): Promise<Agent[]> {
    if (!this.flags['all-hosts']) return listAgents(this.tmux, this.context)
    const {agents, unreachable} = await listEveryAgent(this.tmux, this.context)
    for (const {host, message} of unreachable) process.stderr.write(`warning: host ${host} is unreachable, its agents were left alone: ${message}\n`)
    return agents
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
