import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {reportAgentState} from '../agents.js'
import {REPORTABLE_STATES, parseReportableState} from '../attention/state.js'
import {BaseCommand} from '../base-command.js'
import {MaestroError} from '../shared/errors.js'

export default class Report extends BaseCommand<typeof Report> {
  static summary = 'Tell maestro what state this agent is in (for agent hooks).'
  static description =
    'Inside an agent the name comes from its tmux pane (or MAESTRO_AGENT). The report holds until the agent’s screen changes. See the README for Claude Code, Aider and Codex hooks.'
  static examples = ['<%= config.bin %> <%= command.id %> waiting --message "needs approval to run migrations"', '<%= config.bin %> <%= command.id %> idle --agent backend-api']
  static args = {state: Args.string({description: `One of ${REPORTABLE_STATES.join(', ')}`, required: true})}
  static flags = {
    message: Flags.string({char: 'm', summary: 'A short reason, shown with the state.'}),
    agent: Flags.string({summary: 'Agent name (default: $MAESTRO_AGENT).'}),
    hook: Flags.boolean({summary: 'For agent hooks: outside a maestro agent, or when the report fails, do nothing and exit 0.'}),
  }

  protected override tmuxMayBlock(): boolean {
    return true
  }

  async run(): Promise<{name: string | null; state: string; at: string | null; message: string | null}> {
    const state = parseReportableState(this.args.state)
    if (!this.flags.hook) return this.report(state)
    // A hook must never break the program that runs it (exit 2 blocks a prompt in some of them).
    return this.report(state).catch(() => ({name: null, state, at: null, message: null}))
  }

  private async report(state: ReturnType<typeof parseReportableState>): Promise<{name: string; state: string; at: string; message: string | null}> {
    // $MAESTRO_AGENT keeps the name the agent started with; its pane knows the name it has now.
    const {self} = this.context
    const named = this.flags.agent ?? self.agent
    const pane = !this.flags.agent && self.agent && self.pane
    if (!named) throw new MaestroError('INVALID_ARGUMENT', 'not inside a maestro agent: pass --agent NAME')
    const byName = () => reportAgentState(this.tmux, {name: named}, state, this.flags.message)
    // A pane that is not on maestro's server (a tmux of the user's own, run inside the agent) falls back to the name.
    const {name, report} = await (pane
      ? reportAgentState(this.tmux, {pane}, state, this.flags.message).catch((error: unknown) => {
          if (error instanceof MaestroError && error.code === 'AGENT_NOT_FOUND') return byName()
          throw error
        })
      : byName())
    return {name, state: report.state, at: new Date(report.at).toISOString(), message: report.message}
  }
}
