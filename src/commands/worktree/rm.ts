import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../base-command.js'
import {removeWorktree} from '../../agents.js'
import type {RemovedWorktree} from '../../worktrees.js'

export default class WorktreeRm extends BaseCommand<typeof WorktreeRm> {
  static summary = 'Remove a worktree maestro kept, and its branch, archiving its changes as a patch first.'
  static description = 'Name it by its path or its branch (maestro worktree ls). A worktree an agent still works in is refused: kill the agent instead.'
  static examples = ['<%= config.bin %> <%= command.id %> maestro/api', '<%= config.bin %> <%= command.id %> ~/.local/state/maestro/worktrees/shop-1a2b3c4d/api']
  static args = {worktree: Args.string({description: 'Path or branch of the worktree', required: true})}

  async run(): Promise<RemovedWorktree> {
    const removed = await removeWorktree(this.tmux, this.context, this.args.worktree)
    if (!this.jsonEnabled()) {
      const patch = removed.archive ? `; its changes are in ${removed.archive}/changes.patch` : ''
      this.log(`removed worktree ${removed.path} and branch ${removed.branch}${patch}`)
    }
    return removed
  }
}
