// A place for a bench to run maestro in: config, state and a tmux server of its own.
import {execFileSync} from 'node:child_process'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import {Tmux} from '../dist/tmux/client.js'
import {newSession} from '../dist/tmux/sessions.js'

/** Config, state and a tmux server of its own; `extra` goes into the environment. `destroy` removes it all. */
export function place(label, extra = {}) {
  const home = mkdtempSync(join(tmpdir(), `maestro-bench-${label}-`))
  const socket = `maestro-bench-${label}-${process.pid}`
  const env = {...process.env, MAESTRO_TMUX_SOCKET: socket, MAESTRO_CONFIG_DIR: join(home, 'config'), MAESTRO_STATE_DIR: join(home, 'state'), ...extra}
  delete env.TMUX
  return {
    home,
    socket,
    env,
    destroy() {
      try {
        execFileSync('tmux', ['-L', socket, 'kill-server'], {stdio: 'ignore'})
      } catch {
        // no server was started, or it ended with its last session
      }
      // tmux 3.3 leaves the socket file behind.
      rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid()}`, socket), {force: true})
      rmSync(home, {recursive: true, force: true})
    },
  }
}

/** A place with `count` agents running `sleep 1000`, named agent-000 and on. */
export async function placeWithAgents(label, count) {
  const made = place(label)
  const tmux = new Tmux(made.socket, made.env)
  for (let index = 0; index < count; index++) {
    await newSession(tmux, {name: `agent-${String(index).padStart(3, '0')}`, dir: made.home, command: 'sleep 1000'})
  }
  return made
}
