import {spawn} from 'node:child_process'
import {realpath} from 'node:fs/promises'

import {agentNotFound} from '../shared/errors.js'
import {type Tmux, exact, tmuxMissing} from './client.js'
import {hasSession} from './sessions.js'

/**
 * Hands this terminal to the agent until the user detaches. Inside a client of maestro's own
 * server it switches that client instead of nesting; inside any other tmux it nests, which
 * tmux only allows once $TMUX is cleared.
 */
export async function attachTerminal(tmux: Tmux, name: string, options: {readonly?: boolean} = {}): Promise<void> {
  if (!(await hasSession(tmux, name))) throw agentNotFound(name)
  if (await insideServer(tmux)) {
    await tmux.exec(['switch-client', ...(options.readonly ? ['-r'] : []), '-t', exact(name)])
    return
  }
  const {file, args} = tmux.attachCommand(name, options)
  const env = {...process.env}
  delete env.TMUX
  await new Promise<void>((resolve, reject) => {
    const child = spawn(file, args, {stdio: 'inherit', env})
    child.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'ENOENT' ? tmuxMissing() : error))
    child.on('exit', () => resolve())
  })
}

async function insideServer(tmux: Tmux): Promise<boolean> {
  const current = process.env.TMUX?.split(',')[0]
  if (!current) return false
  const {stdout} = await tmux.exec(['display-message', '-p', '#{socket_path}'])
  const [a, b] = await Promise.all([realpath(current).catch(() => current), realpath(stdout.trim()).catch(() => stdout.trim())])
  return a === b
}
