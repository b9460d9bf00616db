import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import type {KilledAgent} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {killAgentIds} from '../hosts.js'
import type {SettledWorktree} from '../worktrees.js'

export default class Kill extends BaseCommand<typeof Kill> {
  static summary = 'End exactly the named agents (none if any name is unknown), archiving their scrollback and notes first.'
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
    const killed = await killAgentIds(this.tmux, argv as string[], {discardWorktree: this.flags['discard-worktree']})
    if (!this.jsonEnabled()) {
      for (const {id, archive, worktree} of killed) {
        this.log(`killed ${id}; archived to ${archive}`)
        if (worktree) this.log(`  ${describeSettled(worktree)}`)
      }
    }
    return killed
  }
}

export function describeSettled(worktree: SettledWorktree): string {
  const patch = worktree.patch ? `; changes in ${worktree.patch}` : ''
  return worktree.kept
    ? `kept worktree ${worktree.path} on branch ${worktree.branch}: ${worktree.summary}${patch} (maestro worktree rm ${worktree.branch} removes it)`
    : `removed worktree ${worktree.path} and branch ${worktree.branch} (${worktree.summary})${patch}`
}
