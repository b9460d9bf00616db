import {execFile} from 'node:child_process'
import {lstat} from 'node:fs/promises'
import {join} from 'node:path'

import type {Context} from './context.js'
import {MaestroError} from './shared/errors.js'
import {shellCommand} from './shared/shell.js'
import {ensurePrivateDir} from './store/files.js'

/**
 * The one module that runs ssh. Every remote command goes through the user's own OpenSSH client
 * as an argument array; the command line the remote shell parses is built by `shellCommand`.
 */

/** Where to reach a host: an ssh destination (`user@host` or a ~/.ssh/config alias), optional port and key. */
export interface SshTarget {
  dest: string
  port?: number
  identity?: string
}

export interface SshResult {
  stdout: string
  stderr: string
}

/** A remote command that ran and exited non-zero; ssh itself worked. */
export class RemoteCommandError extends Error {
  constructor(
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`remote command exited with ${code}: ${stderr}`)
  }
}

/** How long a host may take to accept a connection before it counts as unreachable. */
export const CONNECT_TIMEOUT_S = 5
/** How long the shared connection stays open after the last command, so the next costs no handshake. */
export const CONTROL_PERSIST_S = 300

// The master binds its socket as `%C.` plus 16 random characters before renaming it, and a Unix
// socket path holds at most 104 bytes on some systems: the folder gets what is left.
const SOCKET_NAME_BYTES = 40 + 17 + 1
const MAX_SOCKET_PATH = 104

/**
 * The folder of the control sockets, one per host: 0700 so that no other user can reach a
 * connection through it. The state directory when its path is short enough, else one in /tmp
 * that must already be ours.
 */
export async function controlDir(stateDir: string): Promise<string> {
  const preferred = join(stateDir, 'ssh')
  if (Buffer.byteLength(preferred) + SOCKET_NAME_BYTES <= MAX_SOCKET_PATH) {
    await ensurePrivateDir(preferred)
    return preferred
  }
  const fallback = `/tmp/maestro-ssh-${process.getuid?.() ?? 'user'}`
  await ensurePrivateDir(fallback)
  const info = await lstat(fallback)
  if (!info.isDirectory() || info.uid !== process.getuid?.()) {
    throw new MaestroError('INVALID_ARGUMENT', `${fallback} belongs to another user; set MAESTRO_STATE_DIR to a shorter path of yours`)
  }
  return fallback
}

/** What ssh takes from the context: maestro's own ssh configuration, if any, where its control sockets go, and the environment ssh inherits. */
export type SshPlaces = Pick<Context, 'sshConfig' | 'stateDir' | 'env'>

/**
 * One host as ssh reaches it. Every call carries the same options. BatchMode: a prompt would hang
 * a command with nobody to answer it. ControlMaster: one connection per host, shared by every
 * command and kept open for a while, so a command costs a round trip and never a handshake. Host
 * keys are left to the user's configuration. MAESTRO_SSH_CONFIG replaces ~/.ssh/config (ssh -F),
 * for a configuration of maestro's own.
 */
export class SshConnection {
  private constructor(
    readonly target: SshTarget,
    private readonly options: string[],
    /** What ssh inherits here (Context.env). */
    readonly env: NodeJS.ProcessEnv,
  ) {}

  static async open(target: SshTarget, places: SshPlaces): Promise<SshConnection> {
    return new SshConnection(target, [
      ...(places.sshConfig ? ['-F', places.sshConfig] : []),
      '-o', 'BatchMode=yes',
      '-o', `ConnectTimeout=${CONNECT_TIMEOUT_S}`,
      '-o', 'ControlMaster=auto',
      '-o', `ControlPath=${join(await controlDir(places.stateDir), '%C')}`,
      '-o', `ControlPersist=${CONTROL_PERSIST_S}`,
      '-o', 'ServerAliveInterval=10',
      '-o', 'ServerAliveCountMax=2',
      ...(target.port ? ['-p', String(target.port)] : []),
      ...(target.identity ? ['-i', target.identity, '-o', 'IdentitiesOnly=yes'] : []),
    ], places.env)
  }

  /**
   * Runs `words` on the host through its user's shell. Resolves with the output; rejects with
   * HOST_UNREACHABLE when ssh could not get there (exit 255, or no answer within `timeoutMs`),
   * RemoteCommandError when the command failed there.
   */
  run(words: string[], settings: {input?: string; timeoutMs?: number} = {}): Promise<SshResult> {
    const {target} = this
    const {file, args} = this.command(words)
    return new Promise((resolve, reject) => {
      const child = execFile(
        file,
        args,
        {env: this.env, maxBuffer: 256 * 1024 * 1024, encoding: 'utf8', timeout: settings.timeoutMs ?? 0, killSignal: 'SIGKILL'},
        (error, stdout, stderr) => {
          if (!error) return resolve({stdout, stderr})
          const failure = error as Omit<NodeJS.ErrnoException, 'code'> & {code?: number | string; killed?: boolean}
          if (failure.code === 'ENOENT') {
            return reject(new MaestroError('SSH_MISSING', 'ssh is not installed or not on PATH (install OpenSSH, e.g. "sudo apt-get install openssh-client")'))
          }
          if (failure.killed) return reject(unreachable(target, `no answer within ${Math.round((settings.timeoutMs ?? 0) / 1000)} s`))
          if (failure.code === 255) return reject(unreachable(target, lastLine(stderr) || 'ssh failed'))
          reject(new RemoteCommandError(Number(failure.code), stderr.trim()))
        },
      )
      // ssh may be gone before it read its input (it failed, or the command took none): the
      // outcome is in its exit status, not in this write.
      child.stdin?.on('error', () => undefined)
      child.stdin?.end(settings.input ?? '')
    })
  }

  /** The file and arguments of a process running `words` on the host without a terminal, over the shared connection. */
  command(words: string[]): {file: string; args: string[]} {
    return {file: 'ssh', args: [...this.options, '-T', '--', this.target.dest, shellCommand(words)]}
  }

  /** The file and arguments of an interactive session running `words` on a remote terminal. */
  terminal(words: string[]): {file: string; args: string[]} {
    return {file: 'ssh', args: [...this.options, '-t', '--', this.target.dest, shellCommand(words)]}
  }

  /** Ends the shared connection, if one is open. */
  disconnect(): Promise<void> {
    const args = [...this.options, '-O', 'exit', '--', this.target.dest]
    return new Promise<void>((resolve) => execFile('ssh', args, {env: this.env}, () => resolve()))
  }
}

function unreachable(target: SshTarget, why: string): MaestroError {
  return new MaestroError('HOST_UNREACHABLE', `cannot reach ${target.dest}: ${why} (maestro host check tells what to fix)`, {dest: target.dest})
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? ''
}
