import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {sendToAgent} from '../agents.js'
import {BaseCommand} from '../base-command.js'

export default class Send extends BaseCommand<typeof Send> {
  static summary = 'Type text into an agent, then press Enter (no text: just Enter); or press keys with --key.'
  static description =
    'The text is pasted literally (no key names are interpreted; words are joined with spaces), and Enter is pressed once the program has taken it. ' +
    'With --key, the named keys are pressed after the text instead of Enter.'
  static examples = [
    '<%= config.bin %> <%= command.id %> backend-api "run the tests and fix what fails"',
    '<%= config.bin %> <%= command.id %> backend-api --no-enter "draft: "',
    '<%= config.bin %> <%= command.id %> backend-api --key Down --key Enter',
    '<%= config.bin %> <%= command.id %> backend-api --key C-c',
  ]
  static strict = false
  static args = {name: Args.string({description: 'Agent name (HOST:NAME on a remote host)', required: true}), text: Args.string({description: 'Text to type'})}
  static flags = {
    enter: Flags.boolean({summary: 'Press Enter after the text (unless --key is given).', default: true, allowNo: true}),
    key: Flags.string({
      char: 'k',
      multiple: true,
      multipleNonGreedy: true,
      summary: 'Press this key after the text (repeatable): Escape, Enter, Up, Down, Left, Right, Tab, BSpace, C-c, ...',
    }),
  }

  protected override tmuxMayBlock(): boolean {
    return true
  }

  async run(): Promise<{id: string; host: string | null; name: string; text: string; enter: boolean; keys: string[]}> {
    const {argv} = await this.parse(Send)
    const [id, ...words] = argv as string[]
    const {tmux, name} = await this.locate(id)
    const given = this.flags.key ?? []
    const text = words.join(' ')
    const enter = given.length === 0 && this.flags.enter
    const keys = enter ? ['Enter'] : given
    await sendToAgent(tmux, name, {text, keys})
    return {id, host: tmux.host, name, text, enter, keys}
  }
}
