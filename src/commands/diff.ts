import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {agentWorktree} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {type Changes, type WorktreeInfo, worktreeChanges, worktreeDiff} from '../worktrees.js'

export interface DiffResult extends Changes {
  name: string
  worktree: WorktreeInfo
}

export default class Diff extends BaseCommand<typeof Diff> {
  static summary = "Show what an agent changed in its worktree against its base: commits, uncommitted and untracked files."
  static description = 'Coloured on a terminal. --json lists the commits, each file with its added and deleted lines, and which files are not committed yet.'
  static examples = ['<%= config.bin %> <%= command.id %> api', '<%= config.bin %> <%= command.id %> api --stat', '<%= config.bin %> <%= command.id %> api --json']
  static args = {name: Args.string({description: 'Agent name', required: true})}
  static flags = {
    stat: Flags.boolean({summary: 'A summary per file instead of the patch.'}),
  }

  async run(): Promise<DiffResult | undefined> {
    const worktree = await agentWorktree(this.tmux, this.context, this.args.name)
    if (this.jsonEnabled()) return {name: this.args.name, worktree, ...(await worktreeChanges(this.context, worktree))}
    const color = Boolean(process.stdout.isTTY) && this.context.colour
    process.stdout.write(await worktreeDiff(this.context, worktree, {stat: this.flags.stat, color}))
    return undefined
  }
}
