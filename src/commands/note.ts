import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {appendAgentNote, getAgentNote, setAgentNote} from '../agents.js'
import {BaseCommand} from '../base-command.js'
import {allowPassphrasePrompt} from '../store/passphrase.js'
import {editText} from '../editor.js'
import {MaestroError} from '../shared/errors.js'
import type {Note} from '../store/notes.js'
import type {Tmux} from '../tmux/client.js'

export default class NoteCommand extends BaseCommand<typeof NoteCommand> {
  static summary = "Show or change an agent's note."
  static description =
    'Without text it prints the note; with text it replaces it. Notes are kept on disk, shared with the web page, and archived when the agent is killed.'
  static examples = [
    '<%= config.bin %> <%= command.id %> backend-api',
    '<%= config.bin %> <%= command.id %> backend-api "owns the orders API"',
    '<%= config.bin %> <%= command.id %> backend-api --append "switched to the v2 schema"',
    '<%= config.bin %> <%= command.id %> backend-api --edit',
    '<%= config.bin %> <%= command.id %> backend-api --file plan.md',
  ]
  static args = {
    name: Args.string({description: 'Agent name (HOST:NAME on a remote host)', required: true, ignoreStdin: true}),
    // oclif would otherwise take a missing text from stdin: a note is replaced only when asked (--file -).
    text: Args.string({description: 'New note text', ignoreStdin: true}),
  }
  static flags = {
    append: Flags.boolean({summary: 'Add the text as a new timestamped line.', exclusive: ['clear', 'edit']}),
    clear: Flags.boolean({summary: 'Empty the note.', exclusive: ['append', 'edit']}),
    edit: Flags.boolean({char: 'e', summary: 'Edit the note in $EDITOR.', exclusive: ['append', 'clear', 'file']}),
    file: Flags.string({
      char: 'f',
      summary: 'Take the text from a file (- reads standard input), for notes too long for an argument.',
      exclusive: ['clear', 'edit'],
    }),
  }

  async run(): Promise<{id: string; host: string | null; name: string} & Note> {
    const {name: id} = this.args
    allowPassphrasePrompt()
    if (this.flags.file !== undefined && this.args.text !== undefined) throw usage('--file takes the text from the file; give no text argument')
    const text = this.flags.file === undefined ? this.args.text : await readText(this.flags.file)
    const {tmux, name} = await this.locate(id)
    const note = await this.change(tmux, name, text)
    if (!this.jsonEnabled()) {
      if (text === undefined && !this.flags.clear && !this.flags.edit) {
        if (note.text) this.log(note.text)
      } else this.log(`note of ${id} saved`)
    }
    return {id, host: tmux.host, name, ...note}
  }

  private async change(tmux: Tmux, name: string, text: string | undefined): Promise<Note> {
    if (this.flags.clear) {
      if (text !== undefined) throw usage('--clear takes no text')
      return setAgentNote(tmux, this.context, name, '')
    }
    if (this.flags.append) {
      if (!text) throw usage('--append needs the text to add')
      return appendAgentNote(tmux, this.context, name, text)
    }
    if (this.flags.edit) {
      if (text !== undefined) throw usage('--edit takes no text')
      const current = await getAgentNote(tmux, this.context, name)
      // A text file ends with a newline; it is taken off again when the edit is saved.
      const edited = await editText(current.text ? `${current.text}\n` : '', name, this.context)
      try {
        const saved = await setAgentNote(tmux, this.context, name, edited.text.replace(/\n$/, ''), {expectedRevision: current.revision})
        await edited.discard()
        return saved
      } catch (error) {
        if (error instanceof MaestroError && error.code === 'NOTE_CONFLICT') {
          throw new MaestroError('NOTE_CONFLICT', `the note of "${name}" changed while you edited it; your version is kept in ${edited.file}`)
        }
        throw error
      }
    }
    if (text === undefined) return getAgentNote(tmux, this.context, name)
    return setAgentNote(tmux, this.context, name, text)
  }
}

async function readText(file: string): Promise<string> {
  const {readFileSync} = await import('node:fs')
  try {
    return readFileSync(file === '-' ? 0 : file, 'utf8')
  } catch (error) {
    throw usage(`cannot read ${file === '-' ? 'standard input' : file}: ${(error as Error).message}`)
  }
}

function usage(message: string): MaestroError {
  return new MaestroError('INVALID_ARGUMENT', message)
}
