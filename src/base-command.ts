// Subpaths: the package root would also bundle, and run at every start, much that no command needs.
import * as Flags from '@oclif/core/flags'
import {Command} from '@oclif/core/command'
import type {InferredArgs, InferredFlags} from '@oclif/core/interfaces'

import {type Context, readContext} from './context.js'
import {locateAgent} from './hosts.js'
import {MaestroError, storageFailure} from './shared/errors.js'
import {takePassphrase} from './store/passphrase.js'
import {Tmux} from './tmux/client.js'

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
  /** What this process learned from its environment: built here, once, and handed down. */
  protected context!: Context

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
    this.context = readContext(process.env)
    // Out of the environment before anything starts a process: no agent or tmux server may inherit it.
    takePassphrase(this.context.env)
  }

  /**
   * oclif colours JSON only with a user theme (`theme.json` in its config dir), yet tokenises the
   * text first in time that grows with its square: 15 to 25 ms for 50 agents. Without a theme its
   * output is the plain text, written here directly.
   */
  public logJson(json: unknown): void {
    const text = this.config.theme?.json ? undefined : JSON.stringify(typeof json === 'string' ? JSON.parse(json) : json, undefined, 2)
    if (typeof text === 'string') console.log(text)
    else super.logJson(json)
  }

  protected get tmux(): Tmux {
    return new Tmux(this.flags.socket || this.context.socket, this.context.env, {blocking: this.tmuxMayBlock()})
  }

  /**
   * Whether this run may wait for tmux without the event loop (TmuxOptions.blocking): commands
   * that make a call or two and end, the ones agent hooks and scripts run again and again.
   */
  protected tmuxMayBlock(): boolean {
    return false
  }

  /** The tmux server an agent id (`NAME`, or `HOST:NAME` for a remote host) points at, and its name there. */
  protected locate(id: string): Promise<{tmux: Tmux; name: string}> {
    return locateAgent(this.tmux, this.context, id)
  }

  /**
   * Library errors carry a stable code and exit code, and oclif's usage errors become
   * INVALID_ARGUMENT: either is shown as one line on stderr (oclif's own renderer wraps long
   * messages and adds the whole usage text), or as JSON.
   */
  protected async catch(thrown: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    const error = storageFailure(thrown) as typeof thrown
    const failure = error instanceof MaestroError ? error : error.oclif?.exit === 2 ? this.usageError(error.message) : undefined
    if (!failure) return super.catch(error)
    process.exitCode = failure.exit
    if (this.jsonEnabled()) {
      // Details never replace the three fields every error has.
      this.logJson({error: {...failure.details, code: failure.code, message: failure.message, exitCode: failure.exit}})
      return
    }
    this.logToStderr(`Error: ${failure.message} [${failure.code}]`)
    this.exit(failure.exit)
  }

  private usageError(message: string): MaestroError {
    const text = message
      .replace('See more help with --help', '')
      .split('\n')
      .map((line) => line.trim())
      .filter(Boolean)
      .join(' ')
      .replace(/\s+/g, ' ')
    return new MaestroError('INVALID_ARGUMENT', `${text} (maestro ${this.id?.replaceAll(':', ' ')} --help shows usage)`)
  }
}
