import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../../base-command.js'
import {type ArchiveContents, readArchive} from '../../store/archive-list.js'
import {allowPassphrasePrompt} from '../../store/passphrase.js'

export default class ArchiveShow extends BaseCommand<typeof ArchiveShow> {
  static summary = "Print a killed agent's note and scrollback from its newest archive (or the one --at names)."
  static examples = ['<%= config.bin %> <%= command.id %> api', '<%= config.bin %> <%= command.id %> api --at 2026-12-02T06-31-53.067Z --json']
  static args = {name: Args.string({description: 'Name of the killed agent (HOST:NAME for a remote host\'s)', required: true})}
  static flags = {
    at: Flags.string({summary: 'The archive to show, by its id (archive ls lists them); default: the newest.'}),
  }

  async run(): Promise<ArchiveContents> {
    allowPassphrasePrompt()
    const archive = await readArchive(this.context, this.args.name, this.flags.at)
    if (!this.jsonEnabled()) {
      this.log(`${archive.name}, killed ${archive.killedAt} (${archive.path})`)
      if (archive.dir || archive.command) this.log(`dir ${archive.dir ?? '?'}, command ${archive.command || '(shell)'}`)
      this.log(`\n--- note ---\n${archive.note.replace(/\n$/, '') || '(empty)'}`)
      this.log(`\n--- scrollback ---`)
      process.stdout.write(archive.scrollback)
    }
    return archive
  }
}
