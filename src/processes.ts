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
  /** The agent id in its environment (Linux only), else ''. */
  agentId: string
}

/** Where an agent's processes start: its pane's process (0 once the pane is gone) and its id. */
export interface ProcessRoot {
  panePid: number
  agentId: string
}

/**
 * One reading of this user's processes, with each one's agent id on Linux: reading it once
 * serves every agent of a kill-all, where one reading per agent grew with agents times processes.
 */
export async function processTable(): Promise<ProcessEntry[]> {
  return process.platform === 'linux' ? linuxTable() : psTable()
}

/**
 * The processes an agent started, in a process table. On Linux: every process of this user whose
 * environment carries the agent's id (setsid, nohup and double-forked daemons keep it), plus the
 * pane's process tree. Elsewhere: the pane's process group and its descendants only.
 */
export function agentProcessesIn(table: ProcessEntry[], root: ProcessRoot): Set<number> {
  const found = new Set<number>()
  if (root.panePid > 0) {
    for (const entry of table) if (entry.pid === root.panePid || (process.platform !== 'linux' && entry.pgid === root.panePid)) found.add(entry.pid)
    // Parents come before children only by luck of pid order: repeat until nothing is added.
    for (let size = -1; size !== found.size; ) {
      size = found.size
      for (const entry of table) if (found.has(entry.ppid)) found.add(entry.pid)
    }
  }
  if (root.agentId) for (const entry of table) if (entry.agentId === root.agentId) found.add(entry.pid)
  found.delete(process.pid)
  return found
}

const AGENT_ID_MARKER = `\0${AGENT_ID_VARIABLE}=`

async function linuxTable(): Promise<ProcessEntry[]> {
  const uid = process.getuid?.()
  const entries = await readdir('/proc').catch(() => [] as string[])
  const table = await Promise.all(
    entries.filter((entry) => /^\d+$/.test(entry)).map(async (entry) => {
      const status = await readFile(`/proc/${entry}/status`, 'utf8').catch(() => '')
      const owner = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1])
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(status)?.[1])
      if (!status || owner !== uid) return undefined
      // A process may end meanwhile, and its environment is then unreadable: it carries no id.
      const environment = `\0${await readFile(`/proc/${entry}/environ`, 'latin1').catch(() => '')}`
      const at = environment.indexOf(AGENT_ID_MARKER)
      const end = environment.indexOf('\0', at + 1)
      const agentId = at < 0 ? '' : environment.slice(at + AGENT_ID_MARKER.length, end < 0 ? undefined : end)
      return {pid: Number(entry), ppid, pgid: 0, agentId}
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
    .map(([pid, ppid, pgid]) => ({pid, ppid, pgid, agentId: ''}))
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
 * Ends the processes of several agents together with SIGHUP, then SIGTERM and finally SIGKILL,
 * each after `graceSeconds` without effect, so a kill-all waits one grace, not one per agent; it
 * returns as soon as all are gone. `collected[i]` holds what agent `roots[i]` ran before its pane
 * closed; processes spawned meanwhile are found by their id again before each signal, in one
 * reading of the process table for all. Returns how many processes each agent lost.
 */
export async function endAgentProcesses(roots: ProcessRoot[], collected: Set<number>[], graceSeconds: number): Promise<number[]> {
  const owned = collected.map((pids) => new Set(pids))
  const ended = new Set<number>()
  const pending = new Set(owned.flatMap((pids) => [...pids]))
  for (const name of ['SIGHUP', 'SIGTERM', 'SIGKILL'] as const) {
    const table = await processTable()
    roots.forEach((root, index) => {
      for (const pid of agentProcessesIn(table, {agentId: root.agentId, panePid: 0})) {
        owned[index].add(pid)
        pending.add(pid)
      }
    })
    for (const pid of pending) ended.add(pid)
    signal(pending, name)
    if (await gone(pending, name === 'SIGKILL' ? 10_000 : graceSeconds * 1000)) break
  }
  return owned.map((pids) => [...pids].filter((pid) => ended.has(pid)).length)
}
