import {BaseCommand} from '../../base-command.js'
import {type Grant, listGrants} from '../../store/grants.js'

export default class ShareLs extends BaseCommand<typeof ShareLs> {
  static summary = 'List the share links that still work.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<Grant[]> {
    const grants = await listGrants(this.context)
    if (!this.jsonEnabled()) {
      if (grants.length === 0) this.log('no share links')
      for (const grant of grants) {
        this.log(`${grant.id}  ${grant.role.padEnd(8)}  until ${grant.expiresAt}  ${grant.agents.join(', ')}${grant.label ? `  (${grant.label})` : ''}`)
      }
    }
    return grants
  }
}
