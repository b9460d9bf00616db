import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {Dirs} from '../context.js'
import type {AgentState} from '../shared/agent.js'
import {MaestroError} from '../shared/errors.js'
import builtIn from './screens.json' with {type: 'json'}

/** One line of the screen table: the first rule whose pattern is on the screen gives the state. */
interface RuleSpec {
  state: Exclude<AgentState, 'exited' | 'unknown'>
  pattern: string
  /** Shown with the state; `{line}` stands for the screen line the pattern matched. */
  message?: string
  /** Match against the last non-empty line only (for bare prompts like aider's "> "). */
  lastLine?: boolean
}

interface ProgramSpec {
  name: string
  /** Tested against the agent's command line and the program running in its pane. */
  match: string
  rules: RuleSpec[]
}

export interface TableSpec {
  programs?: ProgramSpec[]
  /** Prompts any program may show, read after a known program's own rules found nothing. */
  generic?: RuleSpec[]
}

type CompiledRule = RuleSpec & {regex: RegExp}

interface CompiledProgram {
  name: string
  match: RegExp
  rules: CompiledRule[]
}

export interface ScreenTable {
  programs: CompiledProgram[]
  generic: CompiledRule[]
  /** Differs between tables that may read a screen differently: what was read with one holds for it only. */
  key: string
}

export interface ScreenReading {
  state: RuleSpec['state']
  message: string | null
}

/** The rules that ship with maestro. */
export const BUILT_IN = builtIn as TableSpec
/** Their share of a table's key, hashed when the module loads: in the startup snapshot, once for good. */
const BUILT_IN_KEY = fnv(JSON.stringify(BUILT_IN))

/** Compiled tables by config dir: a server lists again and again with the same one. */
const tables = new Map<string, Promise<ScreenTable>>()

/** The built-in table, after the user's own (`screens.json` in the config dir), compiled once. */
export function screenTable(dirs: Pick<Dirs, 'configDir'>): Promise<ScreenTable> {
  let table = tables.get(dirs.configDir)
  if (!table) {
    table = loadUserTable(join(dirs.configDir, 'screens.json')).then((user) => compileTable(user, BUILT_IN))
    tables.set(dirs.configDir, table)
  }
  return table
}

/** Both tables as one, the user's entries first so that they win. */
export function compileTable(user: TableSpec, base: TableSpec): ScreenTable {
  return {
    key: `${fnv(JSON.stringify(user))}.${base === BUILT_IN ? BUILT_IN_KEY : fnv(JSON.stringify(base))}`,
    programs: [...(user.programs ?? []), ...(base.programs ?? [])].map(compileProgram),
    generic: [...(user.generic ?? []), ...(base.generic ?? [])].map(compileRule),
  }
}

async function loadUserTable(path: string): Promise<TableSpec> {
  let raw: string
  try {
    raw = await readFile(path, 'utf8')
  } catch {
    return {}
  }
  try {
    const spec = JSON.parse(raw) as TableSpec
    const table = compileTable(spec, {})
    // Compiled now, so that a bad pattern is refused before any listing uses the table.
    for (const program of table.programs) for (const rule of [{regex: program.match}, ...program.rules]) void rule.regex
    for (const rule of table.generic) void rule.regex
    return spec
  } catch (error) {
    throw new MaestroError('SETTINGS_CORRUPT', `screen patterns in ${path} are not valid: ${(error as Error).message}`)
  }
}

// Compiled when first used: a listing whose screens did not change since the last one reads none.
function compileRule(rule: RuleSpec): CompiledRule {
  let regex: RegExp | undefined
  return {
    ...rule,
    get regex() {
      return (regex ??= new RegExp(rule.pattern, 'm'))
    },
  }
}

function compileProgram(spec: ProgramSpec): CompiledProgram {
  let match: RegExp | undefined
  return {
    name: spec.name,
    get match() {
      return (match ??= new RegExp(spec.match))
    },
    rules: spec.rules.map(compileRule),
  }
}

/** FNV-1a, a hash for telling texts apart (never for security): `ls` should not load a crypto module for it. */
export function fnv(text: string): string {
  let hash = 0x811c9dc5
  // By code point, as `for (const char of text)` would go, without a string for each character.
  for (let index = 0; index < text.length; index++) {
    const code = text.codePointAt(index)!
    if (code > 0xffff) index++
    hash ^= code
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash.toString(16)
}

/** The table entry for an agent's program, if it is one maestro knows how to read. */
export function programFor(table: ScreenTable, command: string): CompiledProgram | undefined {
  return table.programs.find((program) => program.match.test(command))
}

// Frames and cursor marks around a matched line say nothing about it: │┃|▌╭╮╰╯─, escaped because
// the snapshot bundle must be ASCII (scripts/bundle.js).
const FRAME = /^[\s\u2502\u2503|\u258C\u256D\u256E\u2570\u256F\u2500]+|[\s\u2502\u2503|\u258C\u256D\u256E\u2570\u256F\u2500]+$/g

/**
 * What the screen says: the program's own rules first, then the generic prompts. Undefined when
 * nothing matches, which callers must not turn into a confident guess.
 */
export function readScreen(table: ScreenTable, program: CompiledProgram | undefined, screen: string): ScreenReading | undefined {
  const text = screen
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n')
  const lastLine = text.split('\n').filter(Boolean).at(-1) ?? ''
  for (const rule of [...(program?.rules ?? []), ...table.generic]) {
    const target = rule.lastLine ? lastLine : text
    const match = rule.regex.exec(target)
    if (!match) continue
    const start = target.lastIndexOf('\n', match.index) + 1
    const end = target.indexOf('\n', match.index)
    const line = target.slice(start, end === -1 ? undefined : end).replace(FRAME, '')
    return {state: rule.state, message: rule.message?.replace('{line}', line) ?? null}
  }
  return undefined
}
