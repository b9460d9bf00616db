import {rm, stat} from 'node:fs/promises'
import {join} from 'node:path'

import type {Dirs} from './context.js'
import {type ErrorCode, MaestroError} from './shared/errors.js'
import {writePrivateFile} from './store/files.js'
import {notesPath, readNotesForListing} from './store/notes.js'
import type {Tmux} from './tmux/client.js'
import {recorderProblem} from './tmux/recorder.js'
import {CONTROL_CLIENT_CRASH, tmuxVersion} from './tmux/sessions.js'

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

/** The first tmux that survives a session changing while a control client connects (CONTROL_CLIENT_CRASH). */
const CRASH_FIXED_TMUX = 3.7

/** Checks what maestro needs from this machine; each failed check says how to fix it. */
export async function runChecks(tmux: Tmux, dirs: Dirs): Promise<Check[]> {
  return [
    await checkTmux(tmux),
    await checkPrivateDir('config directory', dirs.configDir),
    await checkPrivateDir('state directory', dirs.stateDir),
    await checkNotes(dirs),
    await checkRecorder(),
  ]
}

async function checkRecorder(): Promise<Check> {
  const problem = await recorderProblem()
  if (problem === undefined) return {name: 'recordings', ok: true, detail: 'perl with Time::HiRes records every agent'}
  if (problem === 'no perl') return {name: 'recordings', ok: false, detail: 'perl is not installed: agents are not recorded', fix: 'install perl (apt-get install perl)'}
  return {name: 'recordings', ok: false, detail: 'perl has no Time::HiRes: recordings are timed to the second', fix: 'install the full perl (apt-get install perl)'}
}

async function checkTmux(tmux: Tmux): Promise<Check> {
  try {
    const version = await tmuxVersion(tmux)
    if (version.number < MIN_TMUX) return {name: 'tmux', ok: false, detail: version.text, fix: `upgrade tmux to ${MIN_TMUX} or newer`, code: 'TMUX_TOO_OLD'}
    // Works, so not a failed check; but the user should know what an upgrade buys.
    const crashes = version.number < CRASH_FIXED_TMUX ? ` (before ${CRASH_FIXED_TMUX}, a tmux bug can end every agent when one is made or ended as a watcher starts: ${CONTROL_CLIENT_CRASH}; upgrade when you can)` : ''
    return {name: 'tmux', ok: true, detail: `${version.text}${crashes}`}
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
  const unwritable = await probeWrite(path)
  if (unwritable) return {name, ok: false, detail: `${path} cannot be written: ${unwritable.message}`, fix: unwritable.fix}
  return {name, ok: true, detail: `${path} (mode ${mode.toString(8)})`}
}

/** What a note or an archive about the size of a screenful would take. */
const PROBE_BYTES = 64 * 1024

/** Writes and removes a file the size of a small archive, as maestro would; says why that failed, if it did. */
async function probeWrite(dir: string): Promise<{message: string; fix: string} | undefined> {
  const probe = join(dir, `.doctor-${process.pid}`)
  try {
    await writePrivateFile(probe, 'x'.repeat(PROBE_BYTES))
    await rm(probe, {force: true})
    return undefined
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code
    const fix = errno === 'ENOSPC' || errno === 'EDQUOT' ? `free space on the disk of ${dir}` : `make ${dir} writable by you (chown, chmod 700, or a read-write mount)`
    return {message: (error as Error).message, fix}
  }
}

/** The notes file: valid, or corrupt (notes unavailable, every note write refused) with its repair. */
async function checkNotes(dirs: Dirs): Promise<Check> {
  const path = notesPath(dirs)
  const {notes, problem} = await readNotesForListing(dirs)
  const count = Object.keys(notes).length
  const locked = Object.values(notes).some((note) => note.locked) ? ', encrypted and locked (no MAESTRO_PASSPHRASE)' : ''
  if (!problem) return {name: 'notes', ok: true, detail: `${count} notes in ${path}${locked}`}
  if (problem.code === 'WRONG_PASSPHRASE') {
    return {name: 'notes', ok: false, detail: `${count} encrypted notes in ${path}: ${problem.message} (WRONG_PASSPHRASE)`, fix: 'set MAESTRO_PASSPHRASE to the passphrase given to maestro config encryptNotes on'}
  }
  const lastGood = problem.details?.lastGood as string | null
  return {
    name: 'notes',
    ok: false,
    detail: `${path} is not valid: notes are unavailable and every note write is refused (NOTES_CORRUPT)`,
    fix: lastGood ? `cp ${lastGood} ${path} (the last good version)` : `repair ${path} by hand, or move it aside to start with no notes`,
  }
}
