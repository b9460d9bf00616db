import {execFile} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {readFile, readdir} from 'node:fs/promises'
import {promisify} from 'node:util'

import {AGENT_ID_VARIABLE} from './tmux/sessions.js'
import {pidExists} from './shared/pids.js'

export const DEFAULT_KILL_GRACE_SECONDS = 5

interface ProcessEntry {
  pid: number
  ppid: number
  pgid: number
}

/**
 * The processes an agent started. On Linux: every process of this user whose environment carries
 * the agent's id (setsid, nohup and double-forked daemons keep it), plus the pane's process tree.
 * Elsewhere: the pane's process group and its descendants only.
 */
export async function agentProcesses(root: {panePid: number; agentId: string}): Promise<Set<number>> {
  const table = process.platform === 'linux' ? await linuxTable() : await psTable()
  const found = new Set<number>()
  if (root.panePid > 0) {
    for (const entry of table) if (entry.pid === root.panePid || (process.platform !== 'linux' && entry.pgid === root.panePid)) found.add(entry.pid)
    // Parents come before children only by luck of pid order: repeat until nothing is added.
    for (let size = -1; size !== found.size; ) {
      size = found.size
      for (const entry of table) if (found.has(entry.ppid)) found.add(entry.pid)
    }
  }
  if (process.platform === 'linux' && root.agentId) {
    const marker = `\0${AGENT_ID_VARIABLE}=${root.agentId}\0`
    await Promise.all(
      table.map(async ({pid}) => {
        // Another user's processes are unreadable (EACCES) and a process may end meanwhile.
        const environment = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => '')
        if (`\0${environment}`.includes(marker)) found.add(pid)
      }),
    )
  }
  found.delete(process.pid)
  return found
}

async function linuxTable(): Promise<ProcessEntry[]> {
  const uid = process.getuid?.()
  const entries = await readdir('/proc').catch(() => [] as string[])
  const table = await Promise.all(
    entries.filter((entry) => /^\d+$/.test(entry)).map(async (entry) => {
      const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '')
      const owner = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1])
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1])
      if (!status || owner !== uid) return undefined
      return {pid: Number(entry), ppid, pgid: 0}
    }),
  )
  return table.filter((entry): entry is ProcessEntry => entry !== undefined)
}

async function psTable(): Promise<ProcessEntry[]> {
  const {stdout} = await promisify(execFile)('ps', ['-A', '-o', 'pid=,ppid=,pgid='])
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((fields) => fields.length === 3 && fields.every((field) => field > 0))
    .map(([pid, ppid, pgid]) => ({pid, ppid, pgid}))
}

function alive(pid: number): boolean {
  // A zombie has ended; whoever adopted it may be slow to reap it (or never, as PID 1 of a container).
  if (process.platform === 'linux') {
    try {
      return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
    } catch {
      return false
    }
  }
  return pidExists(pid)
}

function signal(pids: Iterable<number>, name: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, name)
    } catch {
      // Already gone.
    }
  }
}

/** Resolves once none of `pids` is alive, or after `ms`; reports whether they all went. */
async function gone(pids: Set<number>, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  for (;;) {
    for (const pid of pids) if (!alive(pid)) pids.delete(pid)
    if (pids.size === 0) return true
    if (Date.now() >= deadline) return false
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/**
 * Ends `pids` with SIGHUP, then SIGTERM and finally SIGKILL, each after `graceSeconds` without
 * effect; it returns as soon as all are gone. Processes the agent spawns meanwhile are found again
 * by `rescan` before each signal. Returns how many processes were ended.
 */
export async function endProcesses(initial: Set<number>, graceSeconds: number, rescan: () => Promise<Set<number>>): Promise<number> {
  const ended = new Set<number>()
  const pending = new Set(initial)
  for (const name of ['SIGHUP', 'SIGTERM', 'SIGKILL'] as const) {
    for (const pid of await rescan()) pending.add(pid)
    for (const pid of pending) ended.add(pid)
    signal(pending, name)
    if (await gone(pending, name === 'SIGKILL' ? 10_000 : graceSeconds * 1000)) break
  }
  return ended.size
}
