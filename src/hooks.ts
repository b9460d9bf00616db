import {copyFile, mkdir, open, readFile, rename, rm, stat} from 'node:fs/promises'
import {dirname, join, resolve} from 'node:path'

import {MaestroError} from './shared/errors.js'

/**
 * Installs the configuration with which each agent program tells maestro its state through
 * `maestro report`. Every program documents its own mechanism; the table below says where each
 * one lives and which events map to which state.
 */

export const HOOK_PROGRAMS = ['claude', 'codex', 'gemini', 'qwen', 'copilot', 'opencode'] as const
export type HookProgram = (typeof HOOK_PROGRAMS)[number]
/** A project's own files, or the user's (global) ones under their home. */
export type HookScope = {project: string} | {home: string}

type State = 'working' | 'waiting' | 'idle'

// `--hook`: a report that cannot be made (the program runs outside maestro) must not break the
// program's own hook, and some programs read exit status 2 as "block this prompt".
const report = (state: State, message?: string) => `maestro report ${state} --hook${message ? ` --message '${message}'` : ''}`

interface JsonHooks {
  kind: 'json'
  /** Where the file lives for a project and for the user. */
  path: (scope: HookScope) => string
  /** Program event → the state it means. */
  events: Record<string, State>
  messages?: Partial<Record<State, string>>
  /** The shape one hook takes in this program's format. */
  entry: (command: string) => Record<string, unknown>
  /** Top-level keys the file needs besides `hooks` (Copilot's `version`). */
  header?: Record<string, unknown>
  note: string
}

interface CodexNotify {
  kind: 'codex'
  path: (scope: HookScope) => string
  note: string
}

/** A file of maestro's own that the program loads (opencode's plugins): installed whole, removed whole. */
interface OwnFile {
  kind: 'file'
  path: (scope: HookScope) => string
  content: string
  note: string
}

// opencode loads every .js in a plugins folder of its config directories and hands each plugin's
// `event` hook every event. `maestro report` runs as an argument list, never through a shell, and
// is not awaited: a report must never hold up a turn.
const OPENCODE_PLUGIN = `// maestro: tells maestro this agent's state (maestro hooks install opencode; maestro hooks uninstall opencode removes it).
import {execFile} from 'node:child_process'

const report = (state, message) =>
  execFile('maestro', ['report', state, '--hook', ...(message ? ['--message', message] : [])], () => {})

export const MaestroReport = async () => ({
  event: async ({event}) => {
    if (event.type === 'session.status') {
      const status = event.properties?.status?.type
      if (status === 'busy' || status === 'retry') report('working')
      else if (status === 'idle') report('idle', 'turn finished')
    } else if (event.type === 'permission.asked') report('waiting', 'opencode asks for permission')
  },
})
`
const OWN_FILE_MARK = '// maestro: '

const projectOr = (scope: HookScope, project: string, global: string) => ('home' in scope ? join(scope.home, global) : join(scope.project, project))
const claudeStyle = (command: string) => ({hooks: [{type: 'command', command}]})

const PROGRAMS: Record<HookProgram, JsonHooks | CodexNotify | OwnFile> = {
  claude: {
    kind: 'json',
    path: (scope) => projectOr(scope, '.claude/settings.json', '.claude/settings.json'),
    events: {UserPromptSubmit: 'working', Notification: 'waiting', Stop: 'idle'},
    messages: {waiting: 'Claude needs your input', idle: 'turn finished'},
    entry: claudeStyle,
    note: 'hooks UserPromptSubmit, Notification, Stop: working, waiting, idle',
  },
  gemini: {
    kind: 'json',
    path: (scope) => projectOr(scope, '.gemini/settings.json', '.gemini/settings.json'),
    events: {BeforeAgent: 'working', Notification: 'waiting', AfterAgent: 'idle'},
    messages: {waiting: 'Gemini needs your input', idle: 'turn finished'},
    entry: claudeStyle,
    note: 'hooks BeforeAgent, Notification, AfterAgent: working, waiting, idle',
  },
  qwen: {
    kind: 'json',
    path: (scope) => projectOr(scope, '.qwen/settings.json', '.qwen/settings.json'),
    events: {UserPromptSubmit: 'working', Notification: 'waiting', Stop: 'idle'},
    messages: {waiting: 'Qwen needs your input', idle: 'turn finished'},
    entry: claudeStyle,
    note: 'hooks UserPromptSubmit, Notification, Stop: working, waiting, idle',
  },
  copilot: {
    kind: 'json',
    path: (scope) => projectOr(scope, '.github/hooks/maestro.json', '.copilot/hooks/maestro.json'),
    events: {userPromptSubmitted: 'working', notification: 'waiting', agentStop: 'idle'},
    messages: {waiting: 'Copilot needs your input', idle: 'turn finished'},
    entry: (command) => ({type: 'command', bash: command}),
    header: {version: 1},
    note: 'hooks userPromptSubmitted, notification, agentStop: working, waiting, idle',
  },
  codex: {
    kind: 'codex',
    path: (scope) => projectOr(scope, '.codex/config.toml', '.codex/config.toml'),
    note: "notify runs only when a turn completes: it reports idle; working and waiting come from Codex's screen",
  },
  opencode: {
    kind: 'file',
    path: (scope) => projectOr(scope, '.opencode/plugins/maestro.js', '.config/opencode/plugins/maestro.js'),
    content: OPENCODE_PLUGIN,
    note: 'a plugin: session.status busy or retry, idle, and permission.asked: working, idle, waiting',
  },
}

export interface HookStatus {
  program: HookProgram
  path: string
  installed: boolean
  /** What the program's mechanism can report, and what it cannot. */
  note: string
}

export interface HookChange extends HookStatus {
  changed: boolean
  /** The copy of the file as it was before the change, if there was a file. */
  backup: string | null
}

export function parseHookProgram(value: string): HookProgram {
  if ((HOOK_PROGRAMS as readonly string[]).includes(value)) return value as HookProgram
  throw new MaestroError('INVALID_ARGUMENT', `no hooks for "${value}": use one of ${HOOK_PROGRAMS.join(', ')}`)
}

/** The scope the flags name; `home` is the user's (Context.home), where --global hooks go. */
export function hookScope(options: {project?: string; global?: boolean}, home: string): HookScope {
  if (options.project !== undefined && options.global) throw new MaestroError('INVALID_ARGUMENT', 'use --project or --global, not both')
  return options.global ? {home} : {project: resolve(options.project ?? '.')}
}

async function readText(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new MaestroError('INVALID_ARGUMENT', `cannot read ${path}: ${(error as Error).message}`)
  }
}

type Json = Record<string, unknown>

function parseObject(path: string, text: string | undefined): Json {
  if (text === undefined || text.trim() === '') return {}
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (error) {
    throw new MaestroError('SETTINGS_CORRUPT', `${path} is not valid JSON (${(error as Error).message}); fix it first, maestro changed nothing`)
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new MaestroError('SETTINGS_CORRUPT', `${path} does not hold a JSON object; maestro changed nothing`)
  return value as Json
}

/** A hook entry is maestro's when it runs `maestro report`. */
function isOurs(entry: unknown): boolean {
  return /"(command|bash)":"maestro report /.test(JSON.stringify(entry))
}

function withoutOurs(settings: Json): Json {
  const hooks = settings.hooks as Record<string, unknown[]> | undefined
  if (!hooks || typeof hooks !== 'object') return settings
  const kept: Record<string, unknown[]> = {}
  for (const [event, entries] of Object.entries(hooks)) {
    const rest = Array.isArray(entries) ? entries.filter((entry) => !isOurs(entry)) : entries
    if (!Array.isArray(rest) || rest.length > 0) kept[event] = rest
  }
  const {hooks: _old, ...others} = settings
  return Object.keys(kept).length > 0 ? {...others, hooks: kept} : others
}

function withOurs(spec: JsonHooks, settings: Json): Json {
  const base = withoutOurs(settings)
  const hooks = {...(base.hooks as Record<string, unknown[]> | undefined)}
  for (const [event, state] of Object.entries(spec.events)) {
    hooks[event] = [...(hooks[event] ?? []), spec.entry(report(state, spec.messages?.[state]))]
  }
  return {...spec.header, ...base, hooks}
}

function hasOurs(spec: JsonHooks, settings: Json): boolean {
  return JSON.stringify(withOurs(spec, settings)) === JSON.stringify(settings)
}

/** Keeps the file's own indentation, so that a diff shows only what maestro added. */
function formatLike(original: string | undefined, value: Json): string {
  const indent = /\n([ \t]+)"/.exec(original ?? '')?.[1] ?? '  '
  return `${JSON.stringify(value, null, indent)}\n`
}

// Codex appends a JSON argument to its notify command; `sh -c` leaves it out of the report.
const CODEX_NOTIFY = `notify = ["sh", "-c", "${report('idle', 'codex finished a turn')}"]`
const TOML_NOTIFY = /^notify\s*=.*$/m

function codexInstalled(text: string | undefined): boolean {
  return text?.split('\n').includes(CODEX_NOTIFY) ?? false
}

/** Top-level keys must come before the first [table]; comments and everything else stay as they are. */
function codexWith(path: string, text: string | undefined): string {
  const current = text ?? ''
  if (codexInstalled(current)) return current
  const other = TOML_NOTIFY.exec(current)
  if (other) throw new MaestroError('INVALID_ARGUMENT', `${path} already has its own notify (${other[0]}); Codex takes one, so maestro changed nothing`)
  const lines = current.split('\n')
  const table = lines.findIndex((line) => /^\s*\[/.test(line))
  lines.splice(table === -1 ? lines.length : table, 0, CODEX_NOTIFY)
  const joined = lines.join('\n')
  return joined.endsWith('\n') ? joined : `${joined}\n`
}

function codexWithout(text: string | undefined): string | undefined {
  if (text === undefined) return undefined
  return text
    .split('\n')
    .filter((line) => line !== CODEX_NOTIFY)
    .join('\n')
}

/** Writes atomically, keeping the mode of the file it replaces. */
async function writeKeepingMode(path: string, content: string): Promise<void> {
  await mkdir(dirname(path), {recursive: true})
  const mode = (await stat(path).catch(() => undefined))?.mode ?? 0o644
  const temporary = `${path}.maestro-${process.pid}.tmp`
  const handle = await open(temporary, 'w', mode & 0o777)
  try {
    await handle.writeFile(content)
    await handle.sync()
  } finally {
    await handle.close()
  }
  await rename(temporary, path)
}

async function change(program: HookProgram, scope: HookScope, edit: (text: string | undefined, path: string) => string | undefined, created: boolean): Promise<HookChange> {
  const spec = PROGRAMS[program]
  const path = spec.path(scope)
  const before = await readText(path)
  const after = edit(before, path)
  const result = {program, path, note: spec.note, backup: null as string | null}
  if (after === before || (before === undefined && after === undefined)) return {...result, installed: created, changed: false}
  if (before !== undefined) {
    result.backup = `${path}.maestro-backup-${new Date().toISOString().replace(/[:.]/g, '-')}`
    await copyFile(path, result.backup)
  }
  if (after === undefined) await rm(path)
  else await writeKeepingMode(path, after)
  return {...result, installed: created, changed: true}
}

export function installHooks(program: HookProgram, scope: HookScope): Promise<HookChange> {
  const spec = PROGRAMS[program]
  return change(
    program,
    scope,
    (text, path) => {
      if (spec.kind === 'codex') return codexWith(path, text)
      if (spec.kind === 'file') {
        if (text !== undefined && !text.startsWith(OWN_FILE_MARK)) throw new MaestroError('INVALID_ARGUMENT', `${path} exists and is not maestro's; maestro changed nothing`)
        return spec.content
      }
      const settings = parseObject(path, text)
      return hasOurs(spec, settings) ? text : formatLike(text, withOurs(spec, settings))
    },
    true,
  )
}

/** Takes maestro's entries out again; a file that held nothing else goes away. */
export function uninstallHooks(program: HookProgram, scope: HookScope): Promise<HookChange> {
  const spec = PROGRAMS[program]
  return change(
    program,
    scope,
    (text, path) => {
      if (text === undefined) return undefined
      if (spec.kind === 'file') return text.startsWith(OWN_FILE_MARK) ? undefined : text
      if (spec.kind === 'codex') {
        const rest = codexWithout(text)
        return rest === text ? text : rest?.trim() === '' ? undefined : rest
      }
      const settings = parseObject(path, text)
      const rest = withoutOurs(settings)
      if (JSON.stringify(rest) === JSON.stringify(settings)) return text
      const keys = Object.keys(rest).filter((key) => !(spec.header && key in spec.header))
      return keys.length === 0 ? undefined : formatLike(text, rest)
    },
    false,
  )
}

export async function hookStatus(scope: HookScope): Promise<HookStatus[]> {
  return Promise.all(
    HOOK_PROGRAMS.map(async (program) => {
      const spec = PROGRAMS[program]
      const path = spec.path(scope)
      const text = await readText(path)
      let installed: boolean
      if (spec.kind === 'codex') installed = codexInstalled(text)
      else if (spec.kind === 'file') installed = text === spec.content
      else {
        try {
          installed = text !== undefined && hasOurs(spec, parseObject(path, text))
        } catch {
          installed = false
        }
      }
      return {program, path, installed, note: spec.note}
    }),
  )
}
