import {join} from 'node:path'

import {MaestroError} from '../shared/errors.js'
import type {Dirs} from '../context.js'
import type {SshTarget} from '../ssh.js'
import {type JsonFile, readJsonFile, updateJsonFile} from './json-file.js'

/** A remote machine maestro reaches over ssh, by the name the user gave it. */
export interface Host extends SshTarget {
  name: string
}

interface HostsFile {
  version: 1
  hosts: Record<string, SshTarget>
}

export function hostsPath(dirs: Dirs): string {
  return join(dirs.configDir, 'hosts.json')
}

const hostsFile = (path: string): JsonFile<HostsFile> => ({
  path,
  empty: () => ({version: 1, hosts: {}}),
  check(value) {
    const parsed = value as HostsFile
    if (parsed?.version !== 1 || typeof parsed.hosts !== 'object' || parsed.hosts === null) throw new Error('unexpected shape')
    return parsed
  },
  corrupt: () => new MaestroError('HOSTS_CORRUPT', `hosts file ${path} is not valid; fix or move it aside (nothing was changed)`, {path}),
})

/** Every host, sorted by name. */
export async function readHosts(dirs: Dirs): Promise<Host[]> {
  const {hosts} = await readJsonFile(hostsFile(hostsPath(dirs)))
  return Object.entries(hosts)
    .map(([name, target]) => ({name, ...target}))
    .sort((a, b) => a.name.localeCompare(b.name))
}

export async function readHost(dirs: Dirs, name: string): Promise<Host> {
  const target = (await readJsonFile(hostsFile(hostsPath(dirs)))).hosts[name]
  if (!target) throw hostNotFound(name)
  return {name, ...target}
}

export async function addHost(dirs: Dirs, host: Host): Promise<Host> {
  return updateJsonFile(hostsFile(hostsPath(dirs)), (file) => {
    if (file.hosts[host.name]) {
      throw new MaestroError('HOST_EXISTS', `host "${host.name}" already exists (maestro host rm ${host.name} first)`, {host: host.name})
    }
    const {name, ...target} = host
    file.hosts[name] = target
    return host
  })
}

export async function removeHost(dirs: Dirs, name: string): Promise<Host> {
  return updateJsonFile(hostsFile(hostsPath(dirs)), (file) => {
    const target = file.hosts[name]
    if (!target) throw hostNotFound(name)
    delete file.hosts[name]
    return {name, ...target}
  })
}

export function hostNotFound(name: string): MaestroError {
  return new MaestroError('HOST_NOT_FOUND', `host "${name}" not found (maestro host ls lists hosts; maestro host add adds one)`, {host: name})
}
