import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {writePrivateFile} from '../store/files.js'
import {DEFAULT_PORT} from './defaults.js'
import {pidExists} from '../shared/pids.js'

/** Where a running server can be reached, so that `maestro share` can print a whole link. */
function addressPath(stateDir: string): string {
  return join(stateDir, 'serve.json')
}

export async function recordAddress(stateDir: string, origin: string): Promise<void> {
  await writePrivateFile(addressPath(stateDir), `${JSON.stringify({origin, pid: process.pid})}\n`)
}

export async function forgetAddress(stateDir: string): Promise<void> {
  const recorded = await readAddress(stateDir)
  if (recorded?.pid === process.pid) await rm(addressPath(stateDir), {force: true})
}

async function readAddress(stateDir: string): Promise<{origin: string; pid: number} | undefined> {
  try {
    return JSON.parse(await readFile(addressPath(stateDir), 'utf8')) as {origin: string; pid: number}
  } catch {
    return undefined
  }
}

/** The link for a grant token: on the running server, else on the default address. */
export async function shareLink(stateDir: string, token: string): Promise<{url: string; running: boolean}> {
  const recorded = await readAddress(stateDir)
  const running = recorded !== undefined && pidExists(recorded.pid)
  const origin = running ? recorded.origin : `http://localhost:${DEFAULT_PORT}`
  return {url: `${origin}/?token=${encodeURIComponent(token)}`, running}
}
