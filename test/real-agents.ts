import {execFile} from 'node:child_process'
import {existsSync, readdirSync, readlinkSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'

/**
 * A real agent program from npm (its package and the command it installs), in the cache shared
 * by the tests that run real agents ($MAESTRO_AGENTS_CACHE, else ~/.cache/maestro-agents),
 * installed there when missing. Undefined when the registry cannot be reached.
 */
export async function agentBinary(pkg: string, command: string): Promise<string | undefined> {
  const cache = process.env.MAESTRO_AGENTS_CACHE || join(homedir(), '.cache', 'maestro-agents')
  const bin = join(cache, 'node_modules', '.bin', command)
  if (existsSync(bin)) return bin
  await new Promise<void>((resolve) => execFile('npm', ['install', '--prefix', cache, '--no-audit', '--no-fund', pkg], {timeout: 300_000}, () => resolve()))
  return existsSync(bin) ? bin : undefined
}

export function codexBinary(): Promise<string | undefined> {
  return agentBinary('@openai/codex', 'codex')
}

/**
 * Codex starts an app-server daemon from its home that outlives it (and that it restarts while it
 * runs): stop the daemon, then end whatever still runs from that home. Call after its session ended.
 */
export async function stopCodex(codex: string, home: string): Promise<void> {
  await new Promise<void>((resolve) => execFile(codex, ['app-server', 'daemon', 'stop'], {env: {...process.env, HOME: home}, timeout: 30_000}, () => resolve()))
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      if (readlinkSync(`/proc/${pid}/exe`).startsWith(`${home}/`)) process.kill(Number(pid), 'SIGKILL')
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
}
