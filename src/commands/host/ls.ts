import {BaseCommand} from '../../base-command.js'
import {type HostStatus, hostStatuses} from '../../hosts.js'
import {table} from '../../render.js'

export default class HostLs extends BaseCommand<typeof HostLs> {
  static summary = 'List remote hosts: reachable, tmux version, agent count.'
  static description = 'Every host is asked in parallel; one that does not answer within a few seconds is shown as unreachable.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --json']

  async run(): Promise<HostStatus[]> {
    const hosts = await hostStatuses(this.context)
    if (!this.jsonEnabled()) {
      if (hosts.length === 0) this.log('no hosts yet; add one with: maestro host add <name> <user@host>')
      else this.log(table(['HOST', 'DEST', 'REACHABLE', 'TMUX', 'AGENTS', 'PROBLEM'], hosts.map(row)))
    }
    return hosts
  }
}

function row(host: HostStatus): string[] {
  const dest = `${host.dest}${host.port ? `:${host.port}` : ''}`
  return [host.name, dest, host.reachable ? 'yes' : 'no', host.tmux ?? '-', host.agents === null ? '-' : String(host.agents), host.error ?? '']
}
