// Subpaths: the package root would also bundle, and run at every start, much that no command needs.
import * as Flags from '@oclif/core/flags'
import {Command} from '@oclif/core/command'
import type {InferredArgs, InferredFlags} from '@oclif/core/interfaces'

import {MaestroError} from './shared/errors.js'
import {Tmux, socketName} from './tmux/client.js'

export type BaseFlags<T extends typeof Command> = InferredFlags<(typeof BaseCommand)['baseFlags'] & T['flags']>
export type BaseArgs<T extends typeof Command> = InferredArgs<T['args']>

/** Flags, JSON output and error rendering shared by every maestro command. */
export abstract class BaseCommand<T extends typeof Command> extends Command {
  static enableJsonFlag = true

  static baseFlags = {
    socket: Flags.string({
      summary: "Name of maestro's tmux server socket.",
      description: 'Defaults to MAESTRO_TMUX_SOCKET, else "maestro". Agents on other servers are invisible to this one.',
      helpGroup: 'GLOBAL',
    }),
  }

  protected flags!: BaseFlags<T>
  protected args!: BaseArgs<T>

  public async init(): Promise<void> {
    await super.init()
    const {args, flags} = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (this.ctor as typeof BaseCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as BaseFlags<T>
    this.args = args as BaseArgs<T>
  }

  protected get tmux(): Tmux {
    return new Tmux(socketName(this.flags.socket))
  }

  /** Library errors carry a stable code and exit code; show them as one line, or as JSON. */
  protected async catch(error: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (error instanceof MaestroError) {
      process.exitCode = error.exit
      if (this.jsonEnabled()) {
        this.logJson({error: {code: error.code, message: error.message, exitCode: error.exit, ...error.details}})
        return
      }
      // One line on stderr: oclif's own renderer wraps long messages over several.
      this.logToStderr(`Error: ${error.message} [${error.code}]`)
      this.exit(error.exit)
    }
    if (this.jsonEnabled() && error.oclif?.exit === 2) {
      process.exitCode = 2
      this.logJson({error: {code: 'INVALID_ARGUMENT', message: error.message, exitCode: 2}})
      return
    }
    return super.catch(error)
  }
}
