import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../base-command.js'
import {assertAgentName} from '../shared/names.js'
import {sendText} from '../tmux/sessions.js'

export default class Send extends BaseCommand<typeof Send> {
  static summary = 'Type text into an agent, then press Enter.'
  static description = 'The text is typed literally (no key names are interpreted). Words are joined with spaces.'
  static examples = [
    '<%= config.bin %> <%= command.id %> backend-api "run the tests and fix what fails"',
    '<%= config.bin %> <%= command.id %> backend-api --no-enter "draft: "',
  ]
  static strict = false
  static args = {name: Args.string({description: 'Agent name', required: true}), text: Args.string({description: 'Text to type'})}
  static flags = {
    enter: Flags.boolean({summary: 'Press Enter after the text.', default: true, allowNo: true}),
  }

  async run(): Promise<{name: string; text: string; enter: boolean}> {
    const {argv} = await this.parse(Send)
    const [name, ...words] = argv as string[]
    assertAgentName(name)
    const text = words.join(' ')
    await sendText(this.tmux, name, text, {enter: this.flags.enter})
    return {name, text, enter: this.flags.enter}
  }
}
