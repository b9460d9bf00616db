import {readFile, rm} from 'node:fs/promises'
import {join} from 'node:path'

import {stateDir, writePrivateFile} from '../store/files.js'
import {DEFAULT_PORT} from './defaults.js'
import {pidExists} from '../shared/pids.js'

/** Where a running server can be reached, so that `maestro share` can print a whole link. */
function addressPath(): string {
  return join(stateDir(), 'serve.json')
}

export async function recordAddress(origin: string): Promise<void> {
  await writePrivateFile(addressPath(), `${JSON.stringify({origin, pid: process.pid})}\n`)
}

export async function forgetAddress(): Promise<void> {
  const recorded = await readAddress()
  if (recorded?.pid === process.pid) await rm(addressPath(), {force: true})
}

async function readAddress(): Promise<{origin: string; pid: number} | undefined> {
  try {
    return JSON.parse(await readFile(addressPath(), 'utf8')) as {origin: string; pid: number}
  } catch {
    return undefined
  }
}

/** The link for a grant token: on the running server, else on the default address. */
export async function shareLink(token: string): Promise<{url: string; running: boolean}> {
  const recorded = await readAddress()
  const running = recorded !== undefined && pidExists(recorded.pid)
  const origin = running ? recorded.origin : `http://localhost:${DEFAULT_PORT}`
  return {url: `${origin}/?token=${encodeURIComponent(token)}`, running}
}
