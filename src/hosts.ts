import {stat} from 'node:fs/promises'
import {resolve} from 'node:path'

import {type KillOptions, type KillOutcome, type KilledAgent, agentNames, killAgents, killIncomplete, killListedAgents, listAgents, renameAgent} from './agents.js'
import type {Context} from './context.js'
import type {Agent} from './shared/agent.js'
import {MaestroError, agentsNotFound} from './shared/errors.js'
import {assertHostName, formatAgentId, parseAgentId} from './shared/names.js'
import {SshConnection, type SshPlaces} from './ssh.js'
import {type Host, addHost, readHost, readHosts, removeHost} from './store/hosts.js'
import type {Tmux} from './tmux/client.js'
import {RemoteTmux} from './tmux/remote.js'
import {tmuxVersion} from './tmux/sessions.js'

/** Remote hosts: where maestro's agents run besides this machine, reached with the user's ssh. */

/** tmux 3.2 brought `new-session -e` and read-only, size-ignoring attach, which maestro uses. */
export const MIN_REMOTE_TMUX = 3.2

/** How long `ls` waits for a host before it lists the others without it. */
export const LIST_TIMEOUT_MS = 8000

export async function remoteTmux(host: Host, ssh: SshPlaces): Promise<RemoteTmux> {
  return new RemoteTmux(host.name, await SshConnection.open(host, ssh))
}

/** The tmux server an agent id points at (a remote one for `HOST:NAME`) and the agent's name there. */
export async function locateAgent(local: Tmux, context: Context, id: string): Promise<{tmux: Tmux; name: string}> {
  const {host, name} = parseAgentId(id)
  return {tmux: host ? await remoteTmux(await readHost(context, host), context) : local, name}
}

export interface AddHostOptions {
  name: string
  dest: string
  port?: number
  identity?: string
}

/**
 * Saves a host. DEST is handed to ssh as a destination, so it may be `user@host`, `host` or an
 * alias of ~/.ssh/config; what ssh could read as an option or the remote shell as more words is
 * refused. Nothing is connected to: `host check` does that.
 */
export async function addHostChecked(context: Context, options: AddHostOptions): Promise<Host> {
  assertHostName(options.name)
  if (!/^[^\s-][^\s]*$/.test(options.dest) || /[\p{Cc}'"`$;&|<>\\]/u.test(options.dest)) {
    throw new MaestroError('INVALID_ARGUMENT', `invalid ssh destination ${JSON.stringify(options.dest)}: use user@host, host or an alias of your ssh config`, {
      dest: options.dest,
    })
  }
  const host: Host = {name: options.name, dest: options.dest}
  if (options.port !== undefined) host.port = options.port
  if (options.identity !== undefined) {
    const identity = resolve(options.identity)
    const info = await stat(identity).catch(() => undefined)
    if (!info?.isFile()) throw new MaestroError('INVALID_ARGUMENT', `identity file ${identity} does not exist (pass the private key ssh should use)`, {identity})
    host.identity = identity
  }
  return addHost(context, host)
}

/** Forgets a host and closes its shared connection; its agents keep running there. */
export async function removeHostAndDisconnect(name: string, context: Context): Promise<Host> {
  assertHostName(name)
  const host = await removeHost(context, name)
  await (await remoteTmux(host, context)).disconnect()
  return host
}

export interface HostStatus extends Host {
  reachable: boolean
  /** tmux's own version string there, e.g. "tmux 3.3a"; null when it could not be read. */
  tmux: string | null
  agents: number | null
  /** Why the host could not be read, when it could not. */
  error: string | null
}

/** Every host with whether it answers, its tmux and how many agents run there, asked in parallel. */
export async function hostStatuses(context: Context): Promise<HostStatus[]> {
  const hosts = await readHosts(context)
  return Promise.all(hosts.map((host) => hostStatus(host, context)))
}

async function hostStatus(host: Host, context: Context): Promise<HostStatus> {
  const tmux = (await remoteTmux(host, context)).withTimeout(LIST_TIMEOUT_MS)
  try {
    // One after the other: the first call opens the shared connection the second one uses.
    const version = await tmuxVersion(tmux)
    const names = await agentNames(tmux)
    return {...host, reachable: true, tmux: version.text, agents: names.length, error: null}
  } catch (error) {
    const message = (error as Error).message
    const reachable = !(error instanceof MaestroError && error.code === 'HOST_UNREACHABLE')
    return {...host, reachable, tmux: null, agents: null, error: message}
  }
}

export interface HostCheck {
  name: string
  ok: boolean
  detail: string
  fix?: string
}

/** What `host check` looks at: ssh works without a prompt, and tmux there is recent enough. */
export async function checkHost(name: string, context: Context): Promise<{host: Host; ok: boolean; checks: HostCheck[]}> {
  assertHostName(name)
  const host = await readHost(context, name)
  // Asked for by the user, so it may wait as long as any command would.
  const tmux = await remoteTmux(host, context)
  const checks: HostCheck[] = []
  try {
    const version = await tmuxVersion(tmux)
    checks.push({name: 'ssh', ok: true, detail: `${host.dest} answers without a prompt`})
    checks.push(
      version.number >= MIN_REMOTE_TMUX
        ? {name: 'tmux', ok: true, detail: version.text}
        : {name: 'tmux', ok: false, detail: version.text, fix: `upgrade tmux on ${host.dest} to ${MIN_REMOTE_TMUX} or newer`},
    )
  } catch (error) {
    if (!(error instanceof MaestroError)) throw error
    if (error.code === 'TMUX_MISSING') {
      checks.push({name: 'ssh', ok: true, detail: `${host.dest} answers without a prompt`})
      checks.push({name: 'tmux', ok: false, detail: 'not found on the PATH of non-interactive shells', fix: `install tmux ${MIN_REMOTE_TMUX} or newer on ${host.dest}`})
    } else {
      checks.push({name: 'ssh', ok: false, detail: error.message, fix: sshFix(host, error.message)})
      checks.push({name: 'tmux', ok: false, detail: 'not checked: ssh failed'})
    }
  }
  return {host, ok: checks.every((check) => check.ok), checks}
}

/** The usual cure for each way ssh fails, in the words ssh used. */
function sshFix(host: Host, message: string): string {
  const login = `ssh${host.port ? ` -p ${host.port}` : ''}${host.identity ? ` -i ${host.identity}` : ''} ${host.dest}`
  if (/Permission denied/i.test(message)) return `let your key in without a passphrase prompt: ssh-copy-id ${host.dest}, and load the key into ssh-agent`
  if (/Host key verification failed|host key/i.test(message)) return `connect once with "${login}" and check the host key it shows, so it lands in known_hosts`
  if (/Could not resolve|Name or service not known/i.test(message)) return `check the host name, or define "${host.dest}" in ~/.ssh/config`
  if (/refused|timed out|no answer|No route/i.test(message)) return `check that sshd runs on ${host.dest}${host.port ? ` port ${host.port}` : ''} and that it is reachable from here`
  return `run "${login} true" and fix what it says`
}

/** A host that did not answer a listing, and why. */
export interface Unreachable {
  host: string
  message: string
}

/**
 * Agents here and on every host, asked in parallel. A host that fails or does not answer within
 * LIST_TIMEOUT_MS is left out and named in `unreachable`; the others are listed all the same.
 */
export async function listEveryAgent<T extends Agent = Agent>(
  local: Tmux,
  context: Context,
  list: (tmux: Tmux) => Promise<T[]> = (tmux) => listAgents(tmux, context) as Promise<T[]>,
): Promise<{agents: T[]; hosts: string[]; unreachable: Unreachable[]}> {
  const hosts = await readHosts(context)
  const unreachable: Unreachable[] = []
  const lists = await Promise.all([
    list(local),
    ...hosts.map(async (host) => {
      try {
        return await list((await remoteTmux(host, context)).withTimeout(LIST_TIMEOUT_MS))
      } catch (error) {
        if (!(error instanceof MaestroError) || error.code === 'HOSTS_CORRUPT') throw error
        unreachable.push({host: host.name, message: error.message})
        return []
      }
    }),
  ])
  return {agents: lists.flat(), hosts: hosts.map(({name}) => name), unreachable}
}

/**
 * Ends exactly the agents named by these ids, wherever they run, archiving each here first. When
 * any id is unknown or invalid, or its host cannot be asked, nothing is killed anywhere. When
 * some cannot be ended, the others are: one id fails with its own error, several with
 * KILL_INCOMPLETE naming what was killed and what failed.
 */
export async function killAgentIds(local: Tmux, context: Context, ids: string[], options: KillOptions = {}): Promise<KilledAgent[]> {
  const groups = new Map<string | null, string[]>()
  for (const id of ids) {
    const {host, name} = parseAgentId(id)
    groups.set(host, [...(groups.get(host) ?? []), name])
  }
  const servers = await Promise.all(
    [...groups].map(async ([host, names]) => ({tmux: host ? await remoteTmux(await readHost(context, host), context) : local, names})),
  )
  const missing: string[] = []
  for (const {tmux, names} of servers) {
    const existing = new Set(await agentNames(tmux))
    missing.push(...names.filter((name) => !existing.has(name)).map((name) => formatAgentId(tmux.host, name)))
  }
  if (missing.length > 0) throw agentsNotFound(missing)
  const outcome: KillOutcome = {killed: [], failed: []}
  for (const {tmux, names} of servers) {
    const {killed, failed} = await killAgents(tmux, context, names, options)
    outcome.killed.push(...killed)
    outcome.failed.push(...failed)
  }
  if (outcome.failed.length === 0) return outcome.killed
  if (new Set(ids).size === 1) throw outcome.failed[0].error
  throw killIncomplete(outcome, new Set(ids).size)
}

/**
 * Ends agents already listed (by `listAgents` or `listEveryAgent`), on their own hosts, without
 * listing them again. When some cannot be ended, the others are all the same, and it fails with
 * KILL_INCOMPLETE naming what was killed and what failed.
 */
export async function killEveryAgent(local: Tmux, context: Context, agents: Agent[], options: KillOptions = {}): Promise<KilledAgent[]> {
  const byHost = new Map<string | null, Agent[]>()
  for (const agent of agents) byHost.set(agent.host, [...(byHost.get(agent.host) ?? []), agent])
  const outcome: KillOutcome = {killed: [], failed: []}
  for (const [host, listed] of byHost) {
    const {killed, failed} = await killListedAgents(host ? await remoteTmux(await readHost(context, host), context) : local, context, listed, options)
    outcome.killed.push(...killed)
    outcome.failed.push(...failed)
  }
  if (outcome.failed.length > 0) throw killIncomplete(outcome, agents.length)
  return outcome.killed
}

/** Renames an agent on its own host: the new id may repeat the host or leave it out. */
export async function renameAgentId(local: Tmux, context: Context, from: string, to: string): Promise<Agent> {
  const source = parseAgentId(from)
  const target = to.includes(':') ? parseAgentId(to) : {host: source.host, name: to}
  if (target.host !== source.host) {
    throw new MaestroError('INVALID_ARGUMENT', `an agent cannot move between hosts: rename ${from} to a name on the same host`)
  }
  const {tmux} = await locateAgent(local, context, from)
  return renameAgent(tmux, context, source.name, target.name)
}
