import {MaestroError} from '../shared/errors.js'
import {RemoteCommandError, type SshConnection} from '../ssh.js'
import {Tmux, type TmuxResult, TmuxCommandError} from './client.js'
import {collectRecordingCommand, recordingFile} from './recorder.js'

/** On a remote host maestro always uses its own tmux server there, as it does here by default. */
export const REMOTE_SOCKET = 'maestro'

/** How long one remote tmux call may take before its host counts as unreachable. */
export const REMOTE_CALL_TIMEOUT_MS = 30_000

/** Where a host keeps the recordings of its running agents, relative to its user's home. */
export const REMOTE_RECORDINGS_DIR = '.local/state/maestro/recordings'

/**
 * maestro's tmux server on a remote host, reached over ssh. The same tmux commands run there as
 * here, each one a command line quoted word by word for the remote shell.
 */
export class RemoteTmux extends Tmux {
  constructor(
    private readonly hostName: string,
    private readonly ssh: SshConnection,
    private readonly timeoutMs = REMOTE_CALL_TIMEOUT_MS,
  ) {
    super(REMOTE_SOCKET, ssh.env)
  }

  override get host(): string {
    return this.hostName
  }

  /**
   * -u: a non-interactive ssh session often has no UTF-8 locale, and tmux would then print the
   * control characters of maestro's list formats, and any non-ASCII text, as "_".
   */
  override serverArgs(): string[] {
    return ['-u', ...super.serverArgs()]
  }

  /** The same tmux command as here, on a terminal that ssh allocates on the host. */
  override attachCommand(name: string, options: {readonly?: boolean} = {}): {file: string; args: string[]} {
    const local = super.attachCommand(name, options)
    return this.ssh.terminal([local.file, ...local.args])
  }

  /** The same client on the host, its input and output carried by the shared ssh connection. */
  override clientCommand(args: string[]): {file: string; args: string[]} {
    return this.ssh.command(['tmux', ...this.serverArgs(), ...args])
  }

  /** A copy of this handle whose calls give up sooner, for listings that must not wait long. */
  withTimeout(timeoutMs: number): RemoteTmux {
    return new RemoteTmux(this.hostName, this.ssh, timeoutMs)
  }

  /**
   * The absolute path of a directory on the host, checked there: relative paths (and `~/…`)
   * start from the remote user's home, where ssh starts; no directory means the home itself.
   */
  async directory(dir: string | undefined): Promise<string> {
    const relative = dir === undefined || dir === '~' ? '.' : dir.startsWith('~/') ? dir.slice(2) || '.' : dir
    try {
      const {stdout} = await this.ssh.run(['sh', '-c', 'cd -- "$1" && pwd', 'sh', relative], {timeoutMs: this.timeoutMs})
      return stdout.trim()
    } catch (error) {
      if (!(error instanceof RemoteCommandError)) throw error
      throw new MaestroError('DIR_NOT_FOUND', `directory ${dir} does not exist on host "${this.hostName}"`, {
        dir,
        host: this.hostName,
      })
    }
  }

  /**
   * The folder of the host's recordings, made there (0700, as every folder it adds) and given as
   * an absolute path, since the recorder starts wherever the host's tmux server runs; undefined
   * when it cannot be made, and the agent then runs unrecorded.
   */
  async recordingsDir(): Promise<string | undefined> {
    try {
      const {stdout} = await this.ssh.run(['sh', '-c', 'umask 077 && mkdir -p -- "$1" && chmod 700 -- "$1" && cd -- "$1" && pwd -P', 'sh', REMOTE_RECORDINGS_DIR], {timeoutMs: this.timeoutMs})
      return stdout.trim() || undefined
    } catch (error) {
      if (error instanceof RemoteCommandError) return undefined
      throw error
    }
  }

  /** An ended agent's recording, once its recorder has written the last of it; null when it has none. */
  async readRecording(agentId: string): Promise<string | null> {
    try {
      return (await this.ssh.run(collectRecordingCommand(recordingFile(REMOTE_RECORDINGS_DIR, agentId)), {timeoutMs: this.timeoutMs})).stdout
    } catch (error) {
      // 3: no recording; 127: no perl on the host, so none was made either.
      if (error instanceof RemoteCommandError) return null
      throw error
    }
  }

  /** Removes an agent's recording from the host, once it is kept here (with what a trim left behind). */
  async removeRecording(agentId: string): Promise<void> {
    const file = recordingFile(REMOTE_RECORDINGS_DIR, agentId)
    await this.ssh.run(['rm', '-f', '--', file, `${file}.tmp`], {timeoutMs: this.timeoutMs})
  }

  disconnect(): Promise<void> {
    return this.ssh.disconnect()
  }

  protected override async call(args: string[], input: string | undefined): Promise<TmuxResult> {
    try {
      return await this.ssh.run(['tmux', ...this.serverArgs(), ...args], {input, timeoutMs: this.timeoutMs})
    } catch (error) {
      if (!(error instanceof RemoteCommandError)) throw error
      // 127: the remote shell found no tmux on its PATH.
      if (error.code === 127) {
        throw new MaestroError('TMUX_MISSING', `tmux is not installed on host "${this.hostName}" (install tmux 3.2 or newer there)`, {host: this.hostName})
      }
      throw new TmuxCommandError(args, error.stderr || `exit ${error.code}`)
    }
  }
}
