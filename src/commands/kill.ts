import * as Args from '@oclif/core/args'
import type {Command} from '@oclif/core/command'
import * as Flags from '@oclif/core/flags'

import type {KilledAgent} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {killAgentIds} from '../hosts.js'
import {MaestroError} from '../shared/errors.js'
import type {SettledWorktree} from '../worktrees.js'

export default class Kill extends BaseCommand<typeof Kill> {
  static summary = 'End exactly the named agents (none if any name is unknown), archiving their scrollback, notes and recordings first (maestro archive ls lists them).'
  static description =
    'If any name is unknown, nothing is killed. The archive folder of each agent is printed. ' +
    'An agent\'s worktree goes with it when it holds no changes and no commits beyond its base; otherwise it is kept with its branch. ' +
    'Either way its changes are archived as changes.patch (git am or git apply on the base replays them).'
  static examples = ['<%= config.bin %> <%= command.id %> shop-frontend-cart', '<%= config.bin %> <%= command.id %> api worker-1 worker-2']
  static strict = false
  static args = {name: Args.string({description: 'Agent names (HOST:NAME on a remote host)', required: true})}
  static flags = {
    'discard-worktree': Flags.boolean({summary: 'Remove the agents\' worktrees and branches even when they hold work (archived as changes.patch first).'}),
  }

  async run(): Promise<KilledAgent[]> {
    const {argv} = await this.parse(Kill)
    return reportKills(this, () => killAgentIds(this.tmux, this.context, argv as string[], {discardWorktree: this.flags['discard-worktree']}))
  }
}

/**
 * Runs a kill and prints each agent it ended with its archive. When it ended some but not all
 * (KILL_INCOMPLETE), those are printed all the same, then a line on stderr for each it did not.
 */
export async function reportKills(command: Command, kill: () => Promise<KilledAgent[]>): Promise<KilledAgent[]> {
  const print = (killed: KilledAgent[]) => {
    if (command.jsonEnabled()) return
    for (const {id, archive, worktree} of killed) {
      command.log(`killed ${id}; archived to ${archive}`)
      if (worktree) command.log(`  ${describeSettled(worktree)}`)
    }
  }
  try {
    const killed = await kill()
    print(killed)
    return killed
  } catch (error) {
    if (error instanceof MaestroError && error.code === 'KILL_INCOMPLETE' && !command.jsonEnabled()) {
      const {killed, failed} = error.details as {killed: KilledAgent[]; failed: {id: string; code: string; message: string}[]}
      print(killed)
      for (const {id, code, message} of failed) command.logToStderr(`not ended: ${id}: ${message} [${code}]`)
    }
    throw error
  }
}

export function describeSettled(worktree: SettledWorktree): string {
  const patch = worktree.patch ? `; changes in ${worktree.patch}` : ''
  return worktree.kept
    ? `kept worktree ${worktree.path} on branch ${worktree.branch}: ${worktree.summary}${patch} (maestro worktree rm ${worktree.branch} removes it)`
    : `removed worktree ${worktree.path} and branch ${worktree.branch} (${worktree.summary})${patch}`
}
