import * as Args from '@oclif/core/args'

import {archiveLeftovers} from '../../agents.js'
import {BaseCommand} from '../../base-command.js'
import {shortPath, table, terminalFit} from '../../render.js'
import {type ArchiveEntry, listArchives} from '../../store/archive-list.js'

const HEADER = ['NAME', 'KILLED', 'DIR', 'COMMAND', 'SIZE', 'ID']

export default class ArchiveLs extends BaseCommand<typeof ArchiveLs> {
  static summary = 'List the archives of killed agents, newest first: name, killed at, directory, command, size.'
  static description = 'Each kill of an agent leaves one archive (scrollback, note, facts, recording); ID is what archive show and replay take as --at.'
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> api --json']
  static args = {name: Args.string({description: 'Only the archives of this agent (HOST:NAME for a remote host\'s)'})}

  async run(): Promise<ArchiveEntry[]> {
    await archiveLeftovers(this.tmux, this.context)
    const archives = await listArchives(this.context, this.args.name)
    if (!this.jsonEnabled()) {
      this.log(
        archives.length === 0
          ? `no archives${this.args.name ? ` of "${this.args.name}"` : ''}; maestro kill NAME archives an agent`
          : table(
              HEADER,
              archives.map((entry) => [entry.name, localTime(entry.killedAt), entry.dir ? shortPath(entry.dir, this.context.home) : '', entry.command ?? '', size(entry.size) + (entry.recording ? '' : ' (no recording)'), entry.id]),
              terminalFit(HEADER, ['DIR', 'COMMAND']),
            ),
      )
    }
    return archives
  }
}

function localTime(iso: string): string {
  const date = new Date(iso)
  const pad = (n: number) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}`
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`
}
