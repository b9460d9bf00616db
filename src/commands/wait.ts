import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../base-command.js'
import {configuredNotifier} from '../notify.js'
import {AGENT_STATES, type Agent, type AgentState} from '../shared/agent.js'
import {waitForStates} from '../fleet.js'

export default class Wait extends BaseCommand<typeof Wait> {
  static summary = 'Block until agents reach a state; exit 1 on timeout.'
  static description = 'By default waits until every named agent stopped working (waiting, idle or exited).'
  static examples = [
    '<%= config.bin %> <%= command.id %> backend-api --for waiting',
    '<%= config.bin %> <%= command.id %> api web --for idle --for exited --timeout 600 && maestro send review "both are done"',
  ]
  static strict = false
  static args = {name: Args.string({description: 'Agent names (HOST:NAME on a remote host)', required: true})}
  static flags = {
    for: Flags.string({summary: 'State to wait for (repeatable: any of them will do).', options: [...AGENT_STATES], multiple: true}),
    timeout: Flags.integer({char: 't', summary: 'Give up after this many seconds.', min: 0}),
  }

  async run(): Promise<Agent[]> {
    const {argv} = await this.parse(Wait)
    const states = (this.flags.for ?? ['waiting', 'idle', 'exited']) as AgentState[]
    const timeout = this.flags.timeout === undefined ? undefined : this.flags.timeout * 1000
    const agents = await waitForStates(this.tmux, this.context, argv as string[], states, timeout, await configuredNotifier(this.context))
    if (!this.jsonEnabled()) for (const agent of agents) this.log(`${agent.id} is ${agent.state}`)
    return agents
  }
}
