import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {attachAgent, createAgent} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {allowPassphrasePrompt} from '../store/passphrase.js'
import type {Agent} from '../shared/agent.js'

export default class New extends BaseCommand<typeof New> {
  static aliases = ['create']
  static summary = 'Start a new agent in its own tmux session.'
  static description =
    'The agent runs --cmd, else the defaultCommand setting, else your shell, in --dir (default: here). ' +
    'Names use letters, digits, "_" and "-"; hyphens group agents (shop-frontend-cart is shop › frontend › cart).'
  static examples = [
    '<%= config.bin %> <%= command.id %> backend-api --dir ~/src/shop --cmd claude --note "owns the orders API"',
    '<%= config.bin %> <%= command.id %> shop-frontend-cart --cmd aider --attach',
    '<%= config.bin %> <%= command.id %> api --dir ~/src/shop --worktree --cmd claude',
    '<%= config.bin %> <%= command.id %> cart --dir ~/src/shop --worktree --branch fix/cart --base main --copy .env',
  ]
  static args = {name: Args.string({description: 'Agent name (HOST:NAME starts it on a remote host)', required: true})}
  static flags = {
    dir: Flags.string({char: 'd', summary: 'Working directory of the agent (must exist; on a remote host, relative to its home).'}),
    cmd: Flags.string({char: 'c', summary: 'Command line the agent runs.'}),
    note: Flags.string({char: 'n', summary: 'Initial note.'}),
    attach: Flags.boolean({char: 'a', summary: 'Attach this terminal to the agent once it started.'}),
    worktree: Flags.boolean({
      char: 'w',
      summary: 'Start the agent in a git worktree of its own, on a new branch.',
      description:
        'The worktree is made from the checkout --dir is in, under the worktreeDir setting (default: worktrees in the state directory). ' +
        'Your own checkout is not touched.',
    }),
    branch: Flags.string({char: 'b', summary: 'Branch of the worktree (default: maestro/<name>); must not exist yet.', dependsOn: ['worktree']}),
    base: Flags.string({summary: 'Commit, branch or tag the branch starts from (default: the checkout\'s HEAD).', dependsOn: ['worktree']}),
    copy: Flags.string({
      summary: 'A gitignored file or folder (relative to the checkout) to copy into the worktree, such as .env; repeatable.',
      description: 'Paths in the repository\'s git config maestro.copy (git config --add maestro.copy .env) are always copied.',
      multiple: true,
      dependsOn: ['worktree'],
    }),
  }

  async run(): Promise<Agent> {
    if (this.flags.note !== undefined) allowPassphrasePrompt()
    const {tmux, name} = await this.locate(this.args.name)
    const agent = await createAgent(tmux, this.context, {
      name,
      dir: this.flags.dir,
      command: this.flags.cmd,
      note: this.flags.note,
      worktree: this.flags.worktree ? {branch: this.flags.branch, base: this.flags.base, copy: this.flags.copy} : undefined,
    })
    if (!this.jsonEnabled()) this.log(`started ${agent.id} in ${agent.dir}${agent.worktree ? ` on branch ${agent.worktree.branch}` : ''}`)
    if (this.flags.attach) await attachAgent(tmux, agent.name, {tmuxClient: this.context.tmuxClient})
    return agent
  }
}
