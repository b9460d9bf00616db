import * as Args from '@oclif/core/args'

import {BaseCommand} from '../../base-command.js'
import {removeHostAndDisconnect} from '../../hosts.js'
import type {Host} from '../../store/hosts.js'

export default class HostRm extends BaseCommand<typeof HostRm> {
  static summary = 'Forget a remote host; its agents keep running there.'
  static examples = ['<%= config.bin %> <%= command.id %> build']
  static args = {name: Args.string({description: 'Host name', required: true})}

  async run(): Promise<Host> {
    const host = await removeHostAndDisconnect(this.args.name, this.context)
    if (!this.jsonEnabled()) this.log(`removed host ${host.name}`)
    return host
  }
}
