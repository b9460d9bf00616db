import {stat} from 'node:fs/promises'

import {type ErrorCode, MaestroError} from './shared/errors.js'
import {configDir, stateDir} from './store/files.js'
import type {Tmux} from './tmux/client.js'
import {tmuxVersion} from './tmux/sessions.js'

export interface Check {
  name: string
  ok: boolean
  detail: string
  /** How to fix it, when it is not ok. */
  fix?: string
  /** The error maestro's other commands would meet because of it, when that is a tmux problem. */
  code?: ErrorCode
}

export const MIN_TMUX = 3.0

/** Checks what maestro needs from this machine; each failed check says how to fix it. */
export async function runChecks(tmux: Tmux): Promise<Check[]> {
  return [await checkTmux(tmux), await checkPrivateDir('config directory', configDir()), await checkPrivateDir('state directory', stateDir())]
}

async function checkTmux(tmux: Tmux): Promise<Check> {
  try {
    const version = await tmuxVersion(tmux)
    const ok = version.number >= MIN_TMUX
    return ok ? {name: 'tmux', ok, detail: version.text} : {name: 'tmux', ok, detail: version.text, fix: `upgrade tmux to ${MIN_TMUX} or newer`, code: 'TMUX_TOO_OLD'}
  } catch (error) {
    if (error instanceof MaestroError) return {name: 'tmux', ok: false, detail: 'not found', fix: 'install tmux (apt-get install tmux, brew install tmux)', code: 'TMUX_MISSING'}
    throw error
  }
}

async function checkPrivateDir(name: string, path: string): Promise<Check> {
  const info = await stat(path).catch(() => undefined)
  if (!info) return {name, ok: true, detail: `${path} (created on first use)`}
  if (!info.isDirectory()) return {name, ok: false, detail: `${path} is not a directory`, fix: `move ${path} aside`}
  const mode = info.mode & 0o777
  if (mode & 0o077) {
    return {name, ok: false, detail: `${path} is readable by others (mode ${mode.toString(8)})`, fix: `chmod 700 ${path}`}
  }
  return {name, ok: true, detail: `${path} (mode ${mode.toString(8)})`}
}
