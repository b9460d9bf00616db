import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../base-command.js'
import {addHostChecked} from '../../hosts.js'
import type {Host} from '../../store/hosts.js'

export default class HostAdd extends BaseCommand<typeof HostAdd> {
  static summary = 'Add a remote host that maestro reaches over ssh.'
  static description =
    'DEST is what you would give ssh: user@host, host, or an alias of ~/.ssh/config. Nothing is connected to; maestro host check tests the host. Agents there are HOST:NAME.'
  static examples = [
    '<%= config.bin %> <%= command.id %> build ci@build.example --port 2222 --identity ~/.ssh/id_ed25519',
    '<%= config.bin %> <%= command.id %> gpu gpu-box',
  ]
  static args = {
    name: Args.string({description: 'Name of the host in maestro', required: true}),
    dest: Args.string({description: 'ssh destination', required: true}),
  }
  static flags = {
    port: Flags.integer({char: 'p', summary: 'ssh port.', min: 1, max: 65_535}),
    identity: Flags.string({char: 'i', summary: 'Private key file ssh uses for this host.'}),
  }

  async run(): Promise<Host> {
    const host = await addHostChecked(this.context, {name: this.args.name, dest: this.args.dest, port: this.flags.port, identity: this.flags.identity})
    if (!this.jsonEnabled()) this.log(`added host ${host.name} (${host.dest}); check it with: maestro host check ${host.name}`)
    return host
  }
}
