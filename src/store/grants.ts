import {createHash, randomBytes, timingSafeEqual} from 'node:crypto'
import {readFileSync} from 'node:fs'
import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {Dirs} from '../context.js'
import {MaestroError} from '../shared/errors.js'
import {withFileLock, writePrivateFile} from './files.js'

/** viewer: watches its agents and reads their notes; operator: also types and edits their notes. */
export type GrantRole = 'viewer' | 'operator'

/** A share link's grant as stored: the token itself is never kept, only its SHA-256. */
export interface Grant {
  id: string
  agents: string[]
  role: GrantRole
  label?: string
  createdAt: string
  expiresAt: string
}

interface StoredGrant extends Grant {
  hash: string
}

export const DEFAULT_GRANT_EXPIRY = '24h'
const UNITS: Record<string, number> = {m: 60_000, h: 3_600_000, d: 86_400_000}

/** `30m`, `24h`, `7d` as milliseconds; anything else, or more than a year, is refused. */
export function parseExpiry(text: string): number {
  const match = /^(\d+)([mhd])$/.exec(text.trim())
  const ms = match ? Number(match[1]) * UNITS[match[2]] : Number.NaN
  if (!(ms > 0 && ms <= 366 * UNITS.d)) {
    throw new MaestroError('INVALID_ARGUMENT', `--expires takes minutes, hours or days such as 30m, 24h or 7d (at most a year), not "${text}"`)
  }
  return ms
}

export function assertRole(role: string): asserts role is GrantRole {
  if (role !== 'viewer' && role !== 'operator') throw new MaestroError('INVALID_ARGUMENT', `the role is viewer or operator, not "${role}"`)
}

export function grantsPath(dirs: Dirs): string {
  return join(dirs.stateDir, 'grants.json')
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

async function load(path: string): Promise<StoredGrant[]> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return '[]'
    throw error
  })
  return parse(text, path)
}

function parse(text: string, path: string): StoredGrant[] {
  try {
    const grants = JSON.parse(text) as unknown
    if (!Array.isArray(grants)) throw new Error('not a list')
    return grants as StoredGrant[]
  } catch {
    throw new MaestroError('INVALID_ARGUMENT', `share file ${path} is not valid; fix or move it aside (nothing was changed)`)
  }
}

function publicGrant({hash: _hash, ...grant}: StoredGrant): Grant {
  return grant
}

/** The grants not yet expired, without their hashes. */
export async function listGrants(dirs: Dirs, now = Date.now()): Promise<Grant[]> {
  return (await load(grantsPath(dirs))).filter((grant) => Date.parse(grant.expiresAt) > now).map(publicGrant)
}

/** Creates a grant and returns its token: 256 random bits, shown once and stored only as a hash. */
export async function createGrant(dirs: Dirs, options: {agents: string[]; role: GrantRole; expiresInMs: number; label?: string}): Promise<{grant: Grant; token: string}> {
  const token = randomBytes(32).toString('base64url')
  const now = Date.now()
  const stored: StoredGrant = {
    id: randomBytes(6).toString('hex'),
    agents: [...new Set(options.agents)],
    role: options.role,
    ...(options.label ? {label: options.label} : {}),
    createdAt: new Date(now).toISOString(),
    expiresAt: new Date(now + options.expiresInMs).toISOString(),
    hash: hashToken(token),
  }
  await change(dirs, (grants) => [...grants, stored], now)
  return {grant: publicGrant(stored), token}
}

/** Removes the grants with these ids (every grant for `all`); an unknown id removes nothing. */
export async function revokeGrants(dirs: Dirs, ids: string[] | 'all'): Promise<Grant[]> {
  let revoked: StoredGrant[] = []
  await change(dirs, (grants) => {
    if (ids !== 'all') {
      const unknown = ids.filter((id) => !grants.some((grant) => grant.id === id))
      if (unknown.length > 0) {
        throw new MaestroError('GRANT_NOT_FOUND', `no share ${unknown.map((id) => `"${id}"`).join(', ')}; nothing was revoked (maestro share ls lists them)`, {ids: unknown})
      }
    }
    revoked = ids === 'all' ? grants : grants.filter((grant) => ids.includes(grant.id))
    return grants.filter((grant) => !revoked.includes(grant))
  })
  return revoked.map(publicGrant)
}

/** A renamed agent stays in the grants that named it: a share link follows the agent, not the name. */
export async function renameInGrants(dirs: Dirs, from: string, to: string): Promise<void> {
  await change(dirs, (grants) => grants.map((grant) => (grant.agents.includes(from) ? {...grant, agents: grant.agents.map((agent) => (agent === from ? to : agent))} : grant)))
}

/** A killed agent leaves every grant, so that a new agent given its name is not shared by old links. */
export async function forgetInGrants(dirs: Dirs, name: string): Promise<void> {
  await change(dirs, (grants) => grants.map((grant) => (grant.agents.includes(name) ? {...grant, agents: grant.agents.filter((agent) => agent !== name)} : grant)))
}

/**
 * A read-modify-write of the grant file under its lock, so that two `share` runs (or a share and
 * the server's revoke) at the same instant both land. Expired grants are dropped on every write;
 * the file is not written when nothing changed.
 */
async function change(dirs: Dirs, edit: (grants: StoredGrant[]) => StoredGrant[], now = Date.now()): Promise<void> {
  const path = grantsPath(dirs)
  await withFileLock(path, async () => {
    const grants = await load(path)
    const live = grants.filter((grant) => Date.parse(grant.expiresAt) > now)
    const next = edit(live)
    if (next.length === grants.length && next.every((grant, index) => grant === grants[index])) return
    await writePrivateFile(path, `${JSON.stringify(next, null, 2)}\n`)
  })
}

/** The grants as the server holds them: matched by token hash in constant time. */
export class GrantTable {
  constructor(private readonly grants: StoredGrant[]) {}

  /** The grants in the file at `path` (grantsPath). */
  static async read(path: string): Promise<GrantTable> {
    return new GrantTable(await load(path))
  }

  /** For a token check, which is synchronous: the file is small and read only when it changed. */
  static readSync(path: string): GrantTable {
    try {
      return new GrantTable(parse(readFileSync(path, 'utf8'), path))
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new GrantTable([])
      throw error
    }
  }

  byToken(token: string, now = Date.now()): Grant | undefined {
    const hash = Buffer.from(hashToken(token), 'hex')
    let found: StoredGrant | undefined
    // Every grant is compared, so the time taken says nothing about which one matched.
    for (const grant of this.grants) {
      if (timingSafeEqual(hash, Buffer.from(grant.hash, 'hex')) && Date.parse(grant.expiresAt) > now) found = grant
    }
    return found && publicGrant(found)
  }

  /** When the next grant still standing expires (ms since the epoch), or undefined when none will. */
  nextExpiry(now = Date.now()): number | undefined {
    const ends = this.grants.map((grant) => Date.parse(grant.expiresAt)).filter((end) => end > now)
    return ends.length > 0 ? Math.min(...ends) : undefined
  }

  byId(id: string, now = Date.now()): Grant | undefined {
    const grant = this.grants.find((candidate) => candidate.id === id)
    return grant && Date.parse(grant.expiresAt) > now ? publicGrant(grant) : undefined
  }
}
