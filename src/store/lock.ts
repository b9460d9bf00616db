import {readFileSync} from 'node:fs'
import {link, readFile, readdir, rm, unlink, writeFile} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

import {MaestroError} from '../shared/errors.js'

/** How long a writer waits for a live holder (a slow disk, a loaded machine) before giving up with STORE_LOCKED. */
const WAIT_MS = 30_000

/**
 * Who holds a lock: the process id and, on Linux, its start time, so that a dead holder whose
 * id was reused by an unrelated process is still recognised as dead.
 */
function identity(pid = process.pid): string {
  return `${pid} ${startTime(pid)}`
}

function startTime(pid: number): string {
  if (process.platform !== 'linux') return ''
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Field 22, counted after the command name, which may itself contain spaces and parentheses.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
  } catch {
    return ''
  }
}

/** Whether the process named in a lock file is still the one that wrote it. */
export function holderAlive(content: string): boolean {
  const [pidText, started = ''] = content.trim().split(' ')
  const pid = Number(pidText)
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
  } catch (error) {
    // EPERM: alive, owned by someone else.
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false
  }
  return started === '' || startTime(pid) === '' || startTime(pid) === started
}

/** Lock files hold their owner's identity from the instant they exist: they are linked into place, never written there. */
async function place(target: string): Promise<boolean> {
  const {randomBytes} = await import('node:crypto')
  const draft = `${target}.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    // Inside the try: on a full disk the draft is created but its content cannot be written.
    await writeFile(draft, `${identity()}\n`, {mode: 0o600})
    await link(draft, target)
    return true
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw error
  } finally {
    await rm(draft, {force: true})
  }
}

async function holder(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * Removes the lock of a dead holder. Only the holder of `<lock>.takeover` may remove a lock that
 * is not its own, and it checks under that guard that the lock is still the dead one, so two
 * waiters never both take over. The guard is held for microseconds; a guard whose own holder
 * died is removed as well (two waiters racing on that double fault is the one case left open).
 */
async function takeOver(lock: string, dead: string): Promise<void> {
  const guard = `${lock}.takeover`
  if (!(await place(guard))) {
    const guardHolder = await holder(guard)
    if (guardHolder !== undefined && !holderAlive(guardHolder)) await rm(guard, {force: true})
    else await new Promise((resolve) => setTimeout(resolve, 1))
    return
  }
  try {
    if ((await holder(lock)) === dead) await rm(lock, {force: true})
  } finally {
    await rm(guard, {force: true})
  }
}

const queues = new Map<string, Promise<unknown>>()

/**
 * Runs `work` while holding `<path>.lock`, shared with every other maestro process. A lock whose
 * holder died is taken over at once; a live holder is waited for up to 30 s (STORE_LOCKED).
 * Callers in one process queue here first, so they never poll the file against each other.
 */
export async function withLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const previous = queues.get(path) ?? Promise.resolve()
  const run = previous.catch(() => undefined).then(() => holdingLock(path, work))
  const settled = run.catch(() => undefined)
  queues.set(path, settled)
  void settled.then(() => queues.get(path) === settled && queues.delete(path))
  return run
}

async function holdingLock<T>(path: string, work: () => Promise<T>): Promise<T> {
  const lock = `${path}.lock`
  const deadline = Date.now() + WAIT_MS
  let delay = 1
  for (;;) {
    // Reading first keeps waiters cheap: a loaded machine's time goes to the holder.
    const current = await holder(lock)
    if (current === undefined) {
      if (await place(lock)) break
      continue
    }
    if (!holderAlive(current)) {
      await takeOver(lock, current)
      continue
    }
    if (Date.now() > deadline) {
      throw new MaestroError('STORE_LOCKED', `${path} stayed locked by process ${current.split(' ')[0]} for ${WAIT_MS / 1000} s; try again`, {
        path,
        lock,
      })
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
    delay = Math.min(delay * 2, 50)
  }
  try {
    await removeLeftovers(path)
    return await work()
  } finally {
    await unlink(lock).catch(() => undefined)
  }
}

/**
 * What writers that died left beside `path`: half-written `<file>.<pid>.<hex>.tmp` files (only
 * a lock holder writes those, so while we hold it none is in use) and lock drafts of dead
 * processes.
 */
async function removeLeftovers(path: string): Promise<void> {
  const folder = dirname(path)
  const file = basename(path)
  const entries = await readdir(folder).catch(() => [] as string[])
  const draft = new RegExp(`^${escape(file)}\\.lock(?:\\.takeover)?\\.(\\d+)\\.[0-9a-f]+$`)
  const temporary = new RegExp(`^${escape(file)}\\.(?:[\\w-]+\\.)?\\d+\\.[0-9a-f]+\\.tmp$`)
  await Promise.all(
    entries.map(async (entry) => {
      const pid = draft.exec(entry)?.[1]
      if (temporary.test(entry) || (pid && !holderAlive(pid))) await rm(join(folder, entry), {force: true})
    }),
  )
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
}
