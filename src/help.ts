import {Help} from '@oclif/core/help'

type Listed = Parameters<Help['formatCommands']>[0][number]

/**
 * oclif lists each alias as a command of its own (create, list, logs beside new, ls, capture):
 * the root help lists every command once, its aliases after its name.
 */
export class MaestroHelp extends Help {
  protected formatCommands(commands: Listed[]): string {
    const once = commands
      .filter((command) => !command.aliases?.includes(command.id))
      .map((command) => (command.aliases?.length ? {...command, id: `${command.id}, ${command.aliases.join(', ')}`} : command))
    return super.formatCommands(once as Listed[])
  }
}
