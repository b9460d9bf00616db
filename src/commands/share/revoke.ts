import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../base-command.js'
import {MaestroError} from '../../shared/errors.js'
import {type Grant, revokeGrants} from '../../store/grants.js'
import {auditFromCli} from './index.js'

export default class ShareRevoke extends BaseCommand<typeof ShareRevoke> {
  static summary = 'End share links: a running server closes their pages and terminals within a second.'
  static examples = ['<%= config.bin %> <%= command.id %> 3f9a1c2b7d4e', '<%= config.bin %> <%= command.id %> --all']
  static strict = false
  static args = {id: Args.string({description: 'Share ids (maestro share ls)'})}
  static flags = {all: Flags.boolean({summary: 'Revoke every share link.'})}

  async run(): Promise<Grant[]> {
    const {argv} = await this.parse(ShareRevoke)
    const ids = argv as string[]
    if (this.flags.all === ids.length > 0) throw new MaestroError('INVALID_ARGUMENT', 'name the shares to revoke, or --all (not both)')
    const revoked = await revokeGrants(this.context, this.flags.all ? 'all' : ids)
    for (const grant of revoked) await auditFromCli(this.context.stateDir, 'grant_revoke', {grant: grant.id})
    if (!this.jsonEnabled()) this.log(revoked.length === 0 ? 'no share links to revoke' : `revoked ${revoked.map((grant) => grant.id).join(', ')}`)
    return revoked
  }
}
