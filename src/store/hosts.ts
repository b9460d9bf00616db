import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {MaestroError} from '../shared/errors.js'
import type {SshTarget} from '../ssh.js'
import {configDir, withFileLock, writePrivateFile} from './files.js'

/** A remote machine maestro reaches over ssh, by the name the user gave it. */
export interface Host extends SshTarget {
  name: string
}

interface HostsFile {
  version: 1
  hosts: Record<string, SshTarget>
}

export function hostsPath(): string {
  return join(configDir(), 'hosts.json')
}

async function load(path: string): Promise<HostsFile> {
  let raw: string
  try {
    raw = await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {version: 1, hosts: {}}
    throw error
  }
  try {
    const parsed = JSON.parse(raw) as HostsFile
    if (parsed?.version !== 1 || typeof parsed.hosts !== 'object' || parsed.hosts === null) throw new Error('unexpected shape')
    return parsed
  } catch {
    throw new MaestroError('HOSTS_CORRUPT', `hosts file ${path} is not valid; fix or move it aside (nothing was changed)`, {path})
  }
}

/** Every host, sorted by name. */
export async function readHosts(): Promise<Host[]> {
  const {hosts} = await load(hostsPath())
  return Object.entries(hosts)
    .map(([name, target]) => ({name, ...target}))
    .sort((a, b) => a.name.localeCompare(b.name))
}

export async function readHost(name: string): Promise<Host> {
  const target = (await load(hostsPath())).hosts[name]
  if (!target) throw hostNotFound(name)
  return {name, ...target}
}

export async function addHost(host: Host): Promise<Host> {
  const path = hostsPath()
  return withFileLock(path, async () => {
    const file = await load(path)
    if (file.hosts[host.name]) {
      throw new MaestroError('HOST_EXISTS', `host "${host.name}" already exists (maestro host rm ${host.name} first)`, {host: host.name})
    }
    const {name, ...target} = host
    file.hosts[name] = target
    await writePrivateFile(path, `${JSON.stringify(file, null, 2)}\n`)
    return host
  })
}

export async function removeHost(name: string): Promise<Host> {
  const path = hostsPath()
  return withFileLock(path, async () => {
    const file = await load(path)
    const target = file.hosts[name]
    if (!target) throw hostNotFound(name)
    delete file.hosts[name]
    await writePrivateFile(path, `${JSON.stringify(file, null, 2)}\n`)
    return {name, ...target}
  })
}

export function hostNotFound(name: string): MaestroError {
  return new MaestroError('HOST_NOT_FOUND', `host "${name}" not found (maestro host ls lists hosts; maestro host add adds one)`, {host: name})
}
