import {spawn} from 'node:child_process'
import {realpath} from 'node:fs/promises'

import {MaestroError, agentNotFound} from '../shared/errors.js'
import {type Tmux, exact, tmuxMissing} from './client.js'
import {hasSession} from './sessions.js'

export interface AttachOptions {
  readonly?: boolean
  /** The tmux client this process runs in ($TMUX), if any. */
  tmuxClient: string | undefined
}

/**
 * Hands this terminal to the agent until the user detaches. Inside a client of maestro's own
 * server it switches that client instead of nesting; inside any other tmux it nests, which
 * tmux only allows once $TMUX is cleared.
 */
export async function attachTerminal(tmux: Tmux, name: string, options: AttachOptions): Promise<void> {
  if (!(await hasSession(tmux, name))) throw agentNotFound(name)
  // A remote server has no client on this machine to switch.
  const client = tmux.host || !options.tmuxClient ? undefined : await clientOfServer(tmux, options.tmuxClient)
  if (client) {
    // switch-client -r toggles: a client that is read-only already must not be made writable.
    const toggle = options.readonly && !client.readonly
    await tmux.exec(['switch-client', ...(toggle ? ['-r'] : []), '-t', exact(name)])
    return
  }
  const {file, args} = tmux.attachCommand(name, options)
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(file, args, {stdio: 'inherit', env: tmux.clientEnv()})
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? tmuxMissing() : error))
    child.on('exit', resolve)
  })
  // tmux has said why on the inherited stderr (no terminal, session gone).
  if (code !== 0) throw new MaestroError('TMUX_FAILED', `tmux could not attach to "${name}" (it exited with ${code})`, {name})
}

/** The tmux client this process runs inside, when that client belongs to maestro's server. */
async function clientOfServer(tmux: Tmux, tmuxClient: string): Promise<{readonly: boolean} | undefined> {
  const current = tmuxClient.split(',')[0]
  const {stdout} = await tmux.exec(['display-message', '-p', '#{client_readonly} #{socket_path}'])
  const [readonly, ...path] = stdout.trim().split(' ')
  const socket = path.join(' ')
  const [a, b] = await Promise.all([realpath(current).catch(() => current), realpath(socket).catch(() => socket)])
  return a === b ? {readonly: readonly === '1'} : undefined
}
