import * as Args from '@oclif/core/args'

import {type KilledAgent, killAgents} from '../agents.js'
import {BaseCommand} from '../base-command.js'

export default class Kill extends BaseCommand<typeof Kill> {
  static summary = 'End exactly the named agents (none if any name is unknown), archiving their scrollback and notes first.'
  static description = 'If any name is unknown, nothing is killed. The archive folder of each agent is printed.'
  static examples = ['<%= config.bin %> <%= command.id %> shop-frontend-cart', '<%= config.bin %> <%= command.id %> api worker-1 worker-2']
  static strict = false
  static args = {name: Args.string({description: 'Agent names', required: true})}

  async run(): Promise<KilledAgent[]> {
    const {argv} = await this.parse(Kill)
    const killed = await killAgents(this.tmux, argv as string[])
    if (!this.jsonEnabled()) for (const {name, archive} of killed) this.log(`killed ${name}; archived to ${archive}`)
    return killed
  }
}
