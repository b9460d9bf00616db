import {Flags} from '@oclif/core'

import {listAgents} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {age, firstLine, shortPath, table} from '../render.js'
import type {Agent} from '../shared/agent.js'

export default class Ls extends BaseCommand<typeof Ls> {
  static aliases = ['list']
  static summary = 'List agents with their status, viewers, directory, command and note.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --tree', '<%= config.bin %> <%= command.id %> --json']
  static flags = {
    tree: Flags.boolean({summary: 'Group agents by their hyphen hierarchy.'}),
  }

  async run(): Promise<Agent[]> {
    const agents = await listAgents(this.tmux)
    if (this.jsonEnabled()) return agents
    if (agents.length === 0) {
      this.log('no agents yet; start one with: maestro new <name> --cmd <program>')
      return agents
    }
    this.log(this.flags.tree ? renderTree(agents) : renderTable(agents))
    return agents
  }
}

const HEADER = ['NAME', 'STATUS', 'SINCE', 'VIEWERS', 'DIR', 'COMMAND', 'NOTE']

function row(agent: Agent, name = agent.name): string[] {
  return [
    name,
    agent.status === 'exited' ? `exited (${agent.exitCode ?? '?'})` : agent.status,
    age(agent.lastActivityAt),
    String(agent.attachedClients),
    shortPath(agent.dir),
    agent.command,
    firstLine(agent.note),
  ]
}

function renderTable(agents: Agent[]): string {
  return table(HEADER, agents.map((agent) => row(agent)))
}

/** Each group heading on a row of its own, agents indented under it, in name order. */
function renderTree(agents: Agent[]): string {
  const rows: string[][] = []
  let previous: string[] = []
  for (const agent of agents) {
    let shared = 0
    while (shared < previous.length && shared < agent.group.length && previous[shared] === agent.group[shared]) shared++
    for (let depth = shared; depth < agent.group.length; depth++) {
      rows.push([`${'  '.repeat(depth)}${agent.group[depth]}/`, '', '', '', '', '', ''])
    }
    rows.push(row(agent, `${'  '.repeat(agent.group.length)}${agent.name}`))
    previous = agent.group
  }
  return table(HEADER, rows)
}
