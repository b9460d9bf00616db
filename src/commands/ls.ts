import * as Flags from '@oclif/core/flags'

import {type ListedAgent, listAgentsWithChanges} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {FleetWatcher} from '../fleet.js'
import type {MaestroError} from '../shared/errors.js'
import {listEveryAgent} from '../hosts.js'
import {configuredNotifier} from '../notify.js'
import {age, firstLine, shortPath, table, terminalFit} from '../render.js'
import type {Agent} from '../shared/agent.js'

export default class Ls extends BaseCommand<typeof Ls> {
  static aliases = ['list']
  static summary = 'List agents: state (and where it was read), viewers, directory, command, note.'
  static description =
    'STATE is working, waiting (for you), idle, exited or unknown; SOURCE says how maestro knows: report (the agent said so), screen (recognised on its screen) or activity (output timing).'
  static examples = [
    '<%= config.bin %> <%= command.id %>',
    '<%= config.bin %> <%= command.id %> --tree',
    '<%= config.bin %> <%= command.id %> --watch',
    '<%= config.bin %> <%= command.id %> --json',
  ]
  static flags = {
    tree: Flags.boolean({summary: 'Group agents by their hyphen hierarchy.'}),
    watch: Flags.boolean({char: 'w', summary: 'Keep listing as states change (Ctrl-C stops).'}),
  }

  /**
   * Whether `argv`, as typed, lists this machine's agents once, the way execute() may start before
   * oclif has loaded (startListingAgents): `ls` or an alias, with nothing but --tree or --json.
   */
  static listsOnce(argv: string[]): boolean {
    return (argv[0] === 'ls' || Ls.aliases.includes(argv[0])) && argv.slice(1).every((arg) => arg === '--tree' || arg === '--json')
  }

  protected override tmuxMayBlock(): boolean {
    return !this.flags.watch
  }

  async run(): Promise<Shown[]> {
    if (this.flags.watch) return this.watch()
    const {agents, hosts, unreachable} = await listEveryAgent(this.tmux, this.context, (tmux) => listAgentsWithChanges(tmux, this.context, {onNotesProblem: (problem) => this.warnOnce(problem)}))
    // A host that did not answer costs one line on stderr (with --json too), never the rest of the list.
    for (const {host, message} of unreachable) process.stderr.write(`warning: host ${host} is unreachable: ${message}\n`)
    if (!this.jsonEnabled()) this.log(this.render(agents, hosts.length > 0))
    return agents
  }

  #warned = false

  /** Notes that cannot be read do not stop the listing: one line on stderr says they are missing. */
  private warnOnce(problem: MaestroError): void {
    if (this.#warned) return
    this.#warned = true
    this.logToStderr(`Warning: notes unavailable: ${problem.message} [${problem.code}]`)
  }

  private render(agents: Shown[], withHosts: boolean): string {
    if (agents.length === 0) return 'no agents yet; start one with: maestro new <name> --cmd <program>'
    const rows = this.flags.tree ? treeRows(agents, this.context.home) : agents.map((agent) => row(agent, this.context.home))
    // Without any worktree, BRANCH and CHANGES would only be empty; without hosts, HOST would be.
    const shown = HEADER.filter(
      (column) => (column !== 'HOST' || withHosts) && (!WORKTREE_COLUMNS.includes(column) || agents.some((agent) => agent.worktree)),
    )
    const kept = HEADER.flatMap((column, index) => (shown.includes(column) ? [index] : []))
    // A group heading (--tree) has the first cells only.
    const pick = (cells: string[]) => kept.filter((index) => index < cells.length).map((index) => cells[index])
    return table(shown, rows.map(pick), fit(shown))
  }

  /**
   * On a terminal the list is redrawn in place whenever it changes. Elsewhere (a pipe, a log) a
   * new list is printed only when a state changes, so the output stays readable; with --json
   * that is one JSON array per line.
   */
  private async watch(): Promise<Agent[]> {
    const inPlace = process.stdout.isTTY && !this.jsonEnabled()
    let previous = ''
    const watcher = await FleetWatcher.open(this.tmux, this.context)
    const withHosts = watcher.hosts.length > 0
    let down = ''
    const notify = await configuredNotifier(this.context)
    let latest: Agent[] | undefined
    // In place, SINCE keeps counting even while nothing changes.
    if (inPlace) setInterval(() => latest && process.stdout.write(`\u001B[H\u001B[2J${this.render(latest, withHosts)}\n`), 1000)
    return new Promise<Agent[]>((_resolve, reject) => {
      // Ctrl-C or a kill ends the watcher (and its tmux session) before the process.
      const quit = () => void watcher.stop().then(() => process.exit(0))
      process.once('SIGINT', quit)
      process.once('SIGTERM', quit)
      watcher.subscribe(
        (agents) => {
          latest = agents
          notify?.(agents)
          // A host that stops answering, or answers again, is one line on stderr; its agents stay listed as last seen.
          const unreachable = watcher.hosts.filter((host) => host.state === 'unreachable')
          const nowDown = unreachable.map((host) => `warning: host ${host.name} is unreachable: ${host.error}`).join('\n')
          if (nowDown !== down && nowDown) process.stderr.write(`${nowDown}\n`)
          down = nowDown
          const states = JSON.stringify(agents.map(({id, state, stateSource, stateMessage}) => [id, state, stateSource, stateMessage]))
          if (inPlace) process.stdout.write(`\u001B[H\u001B[2J${this.render(agents, withHosts)}\n`)
          else if (states !== previous) process.stdout.write(this.jsonEnabled() ? `${JSON.stringify(agents)}\n` : `${this.render(agents, withHosts)}\n\n`)
          previous = states
        },
        (error) => {
          watcher.stop()
          reject(error)
        },
      )
    })
  }
}

type Shown = Agent | ListedAgent

const HEADER = ['HOST', 'NAME', 'STATE', 'SINCE', 'SOURCE', 'VIEWERS', 'DIR', 'BRANCH', 'CHANGES', 'COMMAND', 'NOTE']
const WORKTREE_COLUMNS = ['BRANCH', 'CHANGES']

function row(agent: Shown, home: string, name = agent.name): string[] {
  const state = agent.state === 'exited' ? `exited (${agent.exitCode ?? '?'})` : agent.state
  return [
    // `-` is this machine.
    agent.host ?? '-',
    name,
    state,
    age(agent.stateSince),
    agent.stateMessage ? `${agent.stateSource}: ${firstLine(agent.stateMessage, 32)}` : agent.stateSource,
    String(agent.attachedClients),
    shortPath(agent.dir, home),
    agent.worktree?.branch ?? '',
    // --watch follows states only: reading every worktree's changes each time would be too slow.
    agent.worktree && 'changes' in agent.worktree ? agent.worktree.changes : '',
    agent.command,
    agent.noteLocked ? '(locked)' : firstLine(agent.note),
  ]
}

function fit(columns: string[]): {width: number; shrink: number[]} | undefined {
  return terminalFit(columns, ['DIR', 'BRANCH', 'COMMAND', 'NOTE'])
}

/** Each group heading on a row of its own, agents indented under it, in name order. */
function treeRows(agents: Shown[], home: string): string[][] {
  const rows: string[][] = []
  let previous: string[] = []
  let previousHost: string | null | undefined
  for (const agent of agents) {
    // Each host's agents form trees of their own.
    if (agent.host !== previousHost) previous = []
    previousHost = agent.host
    let shared = 0
    while (shared < previous.length && shared < agent.group.length && previous[shared] === agent.group[shared]) shared++
    for (let depth = shared; depth < agent.group.length; depth++) {
      rows.push([agent.host ?? '-', `${'  '.repeat(depth)}${agent.group[depth]}/`])
    }
    rows.push(row(agent, home, `${'  '.repeat(agent.group.length)}${agent.name}`))
    previous = agent.group
  }
  return rows
}
