import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../base-command.js'
import {shareLink} from '../../server/address.js'
import {shareAgents} from '../../shares.js'
import {type Grant, assertRole} from '../../store/grants.js'

export default class Share extends BaseCommand<typeof Share> {
  static summary = 'Print a link that shows only these agents, to a colleague or a phone.'
  static description =
    'The link carries a token of its own (256 bits, stored only as a hash). A viewer watches and reads notes; an operator can also type and edit notes. ' +
    'Neither can create, rename, kill or share. A running server honours a new link, and a revoked one, within a second.'
  static examples = ['<%= config.bin %> <%= command.id %> api', '<%= config.bin %> <%= command.id %> api worker-1 --role operator --expires 1h --label phone']
  static strict = false
  static args = {name: Args.string({description: 'Agent names', required: true})}
  static flags = {
    role: Flags.string({summary: 'viewer (watch) or operator (also type).', default: 'viewer', options: ['viewer', 'operator']}),
    expires: Flags.string({summary: 'How long the link works: 30m, 24h, 7d.', default: '24h'}),
    label: Flags.string({summary: 'A note for share ls, such as who has it.'}),
  }

  async run(): Promise<Grant & {url: string}> {
    const {argv} = await this.parse(Share)
    const {role, expires, label} = this.flags
    assertRole(role)
    const {grant, token} = await shareAgents(this.tmux, this.context, {agents: argv as string[], role, expires, label})
    const {url, running} = await shareLink(this.context.stateDir, token)
    await auditFromCli(this.context.stateDir, 'grant_create', {grant: grant.id, agents: grant.agents.join(' '), role, expiresAt: grant.expiresAt})
    if (!this.jsonEnabled()) {
      this.log(url)
      this.log(`share ${grant.id}: ${grant.role} of ${grant.agents.join(', ')} until ${grant.expiresAt}${running ? '' : ' (no server is running: start maestro serve)'}`)
    }
    return {...grant, url}
  }
}

/** The CLI's changes to grants go to the same audit log as the server's. */
export async function auditFromCli(stateDir: string, event: string, fields: Record<string, string>): Promise<void> {
  const {AuditLog, auditPath} = await import('../../server/audit.js')
  const audit = await AuditLog.open(auditPath(stateDir))
  audit.write(event, {address: 'cli', ...fields})
  audit.close()
}
