import {BaseCommand} from '../../base-command.js'
import {age, shortPath, table} from '../../render.js'
import {keptWorktrees} from '../../agents.js'
import type {KeptWorktree} from '../../worktrees.js'

export default class WorktreeLs extends BaseCommand<typeof WorktreeLs> {
  static summary = 'List the worktrees maestro made that are still there, and what is in them.'
  static description = 'A worktree stays after its agent ends when it holds work; AGENT names the agent working in it now, if any.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<KeptWorktree[]> {
    const worktrees = await keptWorktrees(this.tmux, this.context)
    if (!this.jsonEnabled()) {
      this.log(
        worktrees.length === 0
          ? 'no worktrees; maestro new <name> --dir <checkout> --worktree makes one'
          : table(
              ['PATH', 'BRANCH', 'AGENT', 'CREATED', 'CHANGES'],
              worktrees.map((worktree) => [
                shortPath(worktree.path, this.context.home),
                worktree.branch,
                worktree.runningAgent ?? `(ended: ${worktree.agent})`,
                age(worktree.createdAt),
                worktree.changes,
              ]),
            ),
      )
    }
    return worktrees
  }
}
