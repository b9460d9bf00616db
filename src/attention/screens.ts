import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import type {AgentState} from '../shared/agent.js'
import {MaestroError} from '../shared/errors.js'
import {configDir} from '../store/files.js'
import builtIn from './screens.json' with {type: 'json'}

/** One line of the screen table: the first rule whose pattern is on the screen gives the state. */
interface RuleSpec {
  state: Exclude<AgentState, 'exited' | 'unknown'>
  pattern: string
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

interface CompiledProgram {
  name: string
  match: RegExp
  rules: Array<RuleSpec & {regex: RegExp}>
}

export interface ScreenReading {
  state: RuleSpec['state']
  message: string | null
}

export type ScreenTable = CompiledProgram[]

let cache: Promise<ScreenTable> | undefined

/** The built-in table, after the user's own (`screens.json` in the config dir), compiled once. */
export function screenTable(): Promise<ScreenTable> {
  cache ??= loadUserTable().then((user) => [...user, ...builtIn.programs].map((spec) => compile(spec as ProgramSpec)))
  return cache
}

async function loadUserTable(): Promise<ProgramSpec[]> {
  const path = join(configDir(), 'screens.json')
  let raw: string
  try {
    raw = await readFile(path, 'utf8')
  } catch {
    return []
  }
  try {
    const programs = (JSON.parse(raw) as {programs?: ProgramSpec[]}).programs ?? []
    programs.forEach(compile)
    return programs
  } catch (error) {
    throw new MaestroError('SETTINGS_CORRUPT', `screen patterns in ${path} are not valid: ${(error as Error).message}`)
  }
}

function compile(spec: ProgramSpec): CompiledProgram {
  return {
    name: spec.name,
    match: new RegExp(spec.match),
    rules: spec.rules.map((rule) => ({...rule, regex: new RegExp(rule.pattern, 'm')})),
  }
}

/** The table entry for an agent's program, if it is one maestro knows how to read. */
export function programFor(table: ScreenTable, command: string): CompiledProgram | undefined {
  return table.find((program) => program.match.test(command))
}

export function readScreen(program: CompiledProgram, screen: string): ScreenReading | undefined {
  const lines = screen.split('\n').map((line) => line.trimEnd())
  const lastLine = lines.filter(Boolean).at(-1) ?? ''
  for (const rule of program.rules) {
    if (rule.regex.test(rule.lastLine ? lastLine : screen)) return {state: rule.state, message: rule.message ?? null}
  }
  return undefined
}
