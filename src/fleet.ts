import {type FSWatcher, watch} from 'node:fs'
import {basename, dirname} from 'node:path'

import {agentExists} from './agents.js'
import type {Context} from './context.js'
import {LIST_TIMEOUT_MS, locateAgent, remoteTmux} from './hosts.js'
import type {Agent, AgentState, HostState} from './shared/agent.js'
import {MaestroError, agentNotFound} from './shared/errors.js'
import {formatAgentId, parseAgentId} from './shared/names.js'
import {type Host, hostsPath, readHost, readHosts} from './store/hosts.js'
import type {Tmux} from './tmux/client.js'
import {AgentWatcher, Audience, type ErrorListener, type Listener, type RenameListener, type ResizeListener} from './watch.js'

/**
 * How often a host is asked again while it has no agents (so no control client) or does not
 * answer. Each ask is one command over the shared ssh connection, or a connection attempt that
 * ConnectTimeout bounds; once a host has agents, its tmux tells of changes itself.
 */
export const REMOTE_OFFLINE_POLL_MS = 3000

interface Member {
  host: string | null
  watcher: AgentWatcher
}

/**
 * The agents of this machine and of remote hosts in one list, for serve, ls --watch and wait.
 * Each tmux server has a watcher of its own (an AgentWatcher; on a remote host its tmux -C client
 * runs over the host's shared ssh connection). A host that fails keeps its last known agents in
 * the list and is marked unreachable; it is asked again every REMOTE_OFFLINE_POLL_MS and becomes
 * reachable with its first answer. Listeners hear the first list once every server answered or
 * failed once, then every change (of the agents or of a host's state).
 */
export class FleetWatcher {
  readonly #lists = new Map<string | null, Agent[]>()
  readonly #hosts = new Map<string, HostState>()
  readonly #audience = new Audience()
  readonly #heard = new Set<string | null>()
  #unsubscribe: (() => void)[] = []
  #latest: Agent[] = []
  #hostsWatch: FSWatcher | null = null
  /** Given again to the watchers of hosts added while running. */
  readonly #resizeListeners = new Set<ResizeListener>()
  #syncing: Promise<void> = Promise.resolve()

  private constructor(
    private readonly members: Member[],
    /** Every saved host, so `host add` and `host rm` reach a running serve; false when given `hosts`. */
    private readonly followsHosts: boolean,
    private readonly context: Context,
  ) {
    for (const {host} of members) if (host) this.#hosts.set(host, {name: host, state: 'connecting', error: null})
  }

  /** This machine's agents and those of every saved host, or only of `hosts` when given. */
  static async open(local: Tmux, context: Context, options: {hosts?: string[]} = {}): Promise<FleetWatcher> {
    const hosts = (await readHosts(context)).filter((host) => !options.hosts || options.hosts.includes(host.name))
    const remote = await Promise.all(hosts.map((host) => member(host, context)))
    return new FleetWatcher([{host: null, watcher: new AgentWatcher(local, context)}, ...remote], !options.hosts, context)
  }

  /** `onError` hears failed reads of this machine's agents; a host's failures mark it unreachable instead. */
  subscribe(listener: Listener, onError?: ErrorListener): () => void {
    const remove = this.#audience.add(listener, onError, () => void this.stop())
    if (this.#unsubscribe.length === 0) this.#start()
    else if (this.#heard.size === this.members.length) this.#emit()
    return remove
  }

  onRename(listener: RenameListener): () => void {
    return this.#audience.onRename(listener)
  }

  /** Hears the ids of agents whose window changed size, on any server, while someone subscribes. */
  onResize(listener: ResizeListener): () => void {
    const removes = this.members.map((each) => resizeOf(each, listener))
    this.#resizeListeners.add(listener)
    return () => {
      this.#resizeListeners.delete(listener)
      for (const remove of removes) remove()
    }
  }

  /** Notes are kept on this machine, whichever host an agent runs on: its own watcher reads them. */
  get notesProblem(): string | null {
    return this.members[0].watcher.notesProblem
  }

  onNotesProblem(listener: () => void): () => void {
    return this.members[0].watcher.onNotesProblem(listener)
  }

  get hosts(): HostState[] {
    return [...this.#hosts.values()]
  }

  get latest(): readonly Agent[] {
    return this.#latest
  }

  host(name: string): HostState | undefined {
    return this.#hosts.get(name)
  }

  /** Reads every server's list now; resolves once every listener heard what changed. */
  async refresh(): Promise<void> {
    await Promise.all(this.members.map(({watcher}) => watcher.refresh()))
  }

  #start(): void {
    this.#unsubscribe = this.members.map((each) => this.#listen(each))
    if (this.followsHosts) this.#followHosts()
  }

  /**
   * The hosts file is replaced whole (written aside, then renamed), so its directory is watched:
   * each event re-reads the file and starts or stops the watchers of hosts added or removed.
   */
  #followHosts(): void {
    const path = hostsPath(this.context)
    try {
      this.#hostsWatch = watch(dirname(path), (_event, file) => {
        if (file === null || file === basename(path)) this.#syncing = this.#syncing.then(() => this.#syncHosts())
      })
      this.#hostsWatch.on('error', () => this.#hostsWatch?.close())
    } catch {
      // No config directory yet: `host add` creates it, and a restart then finds it.
    }
  }

  async #syncHosts(): Promise<void> {
    let saved: Host[]
    try {
      saved = await readHosts(this.context)
    } catch {
      return // a file being edited by hand: the running list stays as it was
    }
    if (!this.#hostsWatch) return
    const names = new Set(saved.map((host) => host.name))
    for (const gone of this.members.filter(({host}) => host !== null && !names.has(host))) {
      const index = this.members.indexOf(gone)
      this.members.splice(index, 1)
      this.#unsubscribe.splice(index, 1)[0]?.()
      this.#lists.delete(gone.host)
      this.#hosts.delete(gone.host!)
      this.#heard.delete(gone.host)
      void gone.watcher.stop()
    }
    for (const host of saved.filter(({name}) => !this.members.some((each) => each.host === name))) {
      const added = await member(host, this.context)
      if (!this.#hostsWatch) return void added.watcher.stop()
      this.members.push(added)
      for (const listener of this.#resizeListeners) resizeOf(added, listener)
      this.#hosts.set(host.name, {name: host.name, state: 'connecting', error: null})
      this.#unsubscribe.push(this.#listen(added))
    }
    this.#emit()
  }

  #listen({host, watcher}: Member): () => void {
    // A watcher forgets its rename listeners when it stops: they are given again with each start.
    watcher.onRename((from, to) => {
      this.#audience.renamed(formatAgentId(host, from), formatAgentId(host, to))
    })
    return watcher.subscribe(
        (agents) => {
          this.#heard.add(host)
          this.#lists.set(host, agents)
          if (host) this.#hosts.set(host, {name: host, state: 'reachable', error: null})
          this.#emit()
        },
        (error) => {
          if (!host) return this.#audience.failed(error)
          this.#heard.add(host)
          const message = error instanceof MaestroError ? error.message : `cannot list the agents of host "${host}": ${error.message}`
          this.#hosts.set(host, {name: host, state: 'unreachable', error: message})
          this.#emit()
        },
      )
  }

  #emit(): void {
    if (this.#heard.size < this.members.length) return
    this.#latest = this.members.flatMap(({host}) => this.#lists.get(host) ?? [])
    this.#audience.tell(this.#latest, JSON.stringify([this.#latest, this.hosts]))
  }

  /** Stops every server's watcher; resolves once their control clients are gone. */
  async stop(): Promise<void> {
    const unsubscribe = this.#unsubscribe
    this.#unsubscribe = []
    this.#hostsWatch?.close()
    this.#hostsWatch = null
    await this.#syncing
    this.#audience.clear()
    this.#heard.clear()
    for (const stop of unsubscribe) stop()
    await Promise.all(this.members.map(({watcher}) => watcher.stop()))
  }
}

function resizeOf({host, watcher}: Member, listener: ResizeListener): () => void {
  return watcher.onResize((names) => listener(names.map((name) => formatAgentId(host, name))))
}

async function member(host: Host, context: Context): Promise<Member> {
  return {host: host.name, watcher: new AgentWatcher((await remoteTmux(host, context)).withTimeout(LIST_TIMEOUT_MS), context, REMOTE_OFFLINE_POLL_MS)}
}

/**
 * Resolves with the agents (ids, here or on hosts) once every one of them is in one of `states`;
 * rejects with TIMEOUT after `timeoutMs`, AGENT_NOT_FOUND when an agent disappears (it can never
 * get there), or HOST_UNREACHABLE when its host fails before the agent was seen. `observe` hears
 * every list read meanwhile (the onStateChange notifier).
 */
export async function waitForStates(local: Tmux, context: Context, ids: string[], states: AgentState[], timeoutMs?: number, observe?: Listener): Promise<Agent[]> {
  const hosts = [...new Set(ids.map((id) => parseAgentId(id).host).filter((host) => host !== null))]
  // An unknown host is HOST_NOT_FOUND, as for every other command.
  for (const host of hosts) await readHost(context, host)
  const watcher = await FleetWatcher.open(local, context, {hosts})
  return new Promise<Agent[]>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined
    let latest: Agent[] = []
    let done = false
    const seen = new Set<string>()
    const checking = new Set<string>()
    const finish = (error: Error | undefined, agents?: Agent[]) => {
      if (done) return
      done = true
      clearTimeout(timer)
      // The watchers' tmux sessions are gone before wait returns.
      void watcher.stop().then(() => (error ? reject(error) : resolve(agents!)))
    }
    const timeOut = () => {
      const pending = latest.filter((agent) => ids.includes(agent.id) && !states.includes(agent.state))
      finish(
        new MaestroError('TIMEOUT', `timed out: ${pending.map((agent) => `${agent.id} is ${agent.state}`).join(', ')} (waited for ${states.join(' or ')})`, {
          // Named as the user named them: HOST:NAME on a remote host.
          agents: pending.map(({id, state}) => ({name: id, state})),
        }),
      )
    }
    watcher.subscribe(
      (agents) => {
        latest = agents
        observe?.(agents)
        const byId = new Map(agents.map((agent) => [agent.id, agent]))
        for (const id of ids) if (byId.has(id)) seen.add(id)
        const missing = ids.find((id) => !byId.has(id))
        if (missing) {
          const host = parseAgentId(missing).host
          const down = host ? watcher.host(host) : undefined
          if (down?.state === 'unreachable') return finish(new MaestroError('HOST_UNREACHABLE', down.error ?? `host "${host}" is unreachable`, {host}))
          if (!host || seen.has(missing)) return finish(agentNotFound(missing))
          // A host's first reading can miss an agent created just before (seen under load): the
          // host itself says whether the agent exists, and its watcher lists it at its next
          // reading, on the next change there or at the latest the safety poll's.
          if (!checking.has(missing)) {
            checking.add(missing)
            void locateAgent(local, context, missing)
              .then(({tmux, name}) => agentExists(tmux, name))
              .then(
                (exists) => (exists ? checking.delete(missing) : finish(agentNotFound(missing))),
                (error: unknown) => finish(error as Error),
              )
          }
          return
        }
        const wanted = ids.map((id) => byId.get(id)!)
        if (wanted.every((agent) => states.includes(agent.state))) return finish(undefined, wanted)
        // Counted from the first reading, so that a timeout always says what the agents were doing.
        if (timeoutMs !== undefined) timer ??= setTimeout(timeOut, timeoutMs)
      },
      (error) => finish(error),
    )
  })
}
