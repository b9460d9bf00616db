import {join} from 'node:path'

import type {Dirs} from '../context.js'
import {MaestroError} from '../shared/errors.js'
import {type JsonFile, readJsonFile, updateJsonFile} from './json-file.js'

export interface Settings {
  /** The command a new agent runs when `--cmd` is not given. */
  defaultCommand?: string
  /** How many days a browser signed in to `maestro serve` stays signed in. */
  sessionDays?: number
  /** Where `new --worktree` makes worktrees; default: `worktrees` in the state directory. */
  worktreeDir?: string
  /** A program and its arguments, run when an agent starts waiting or exits (see src/notify.ts). */
  onStateChange?: string[]
  /** How long `kill` waits after SIGHUP, then after SIGTERM, before the next signal. */
  killGraceSeconds?: number
  /** Past this many MiB an agent's recording drops its oldest output. */
  recordingLimitMB?: number
}

export const SETTING_KEYS = ['defaultCommand', 'sessionDays', 'worktreeDir', 'onStateChange', 'killGraceSeconds', 'recordingLimitMB'] as const
export type SettingKey = (typeof SETTING_KEYS)[number]

export function settingsPath(dirs: Dirs): string {
  return join(dirs.configDir, 'settings.json')
}

export const DEFAULT_RECORDING_LIMIT_MB = 64
const MAX_RECORDING_LIMIT_MB = 102_400

/** What a setting may hold; numbers are bounded, `from` is excluded unless `fromIncluded`. */
type Rule = {kind: 'text'} | {kind: 'command'} | {kind: 'number'; unit: string; from: number; fromIncluded?: true; to: number}

const RULES: Record<SettingKey, Rule> = {
  defaultCommand: {kind: 'text'},
  sessionDays: {kind: 'number', unit: 'days', from: 0, to: 3650},
  worktreeDir: {kind: 'text'},
  onStateChange: {kind: 'command'},
  killGraceSeconds: {kind: 'number', unit: 'seconds', from: 0, fromIncluded: true, to: 600},
  recordingLimitMB: {kind: 'number', unit: 'MiB', from: 0, to: MAX_RECORDING_LIMIT_MB},
}

function fits(rule: Rule, value: unknown): boolean {
  if (rule.kind === 'text') return typeof value === 'string'
  if (rule.kind === 'command') return Array.isArray(value) && value.length > 0 && value.every((word) => typeof word === 'string' && word !== '')
  return typeof value === 'number' && (rule.fromIncluded ? value >= rule.from : value > rule.from) && value <= rule.to
}

function expected(rule: Rule): string {
  if (rule.kind === 'text') return 'a string'
  if (rule.kind === 'command') return 'a JSON array of the program and its arguments'
  return `a number of ${rule.unit} ${rule.fromIncluded ? `from ${rule.from} to ${rule.to}` : `above ${rule.from} and at most ${rule.to}`}`
}

/**
 * settings.json is the file the conf package kept before, at the same path and in the same shape
 * (one object of settings), so settings written by earlier versions are read as they are. Keys
 * this version does not know are kept.
 */
const settingsFile = (path: string): JsonFile<Settings> => ({
  path,
  empty: () => ({}),
  check(value) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('it does not hold a JSON object')
    for (const key of SETTING_KEYS) {
      const setting = (value as Settings)[key]
      if (setting !== undefined && !fits(RULES[key], setting)) throw new Error(`${key} must be ${expected(RULES[key])}, not ${JSON.stringify(setting)}`)
    }
    return value as Settings
  },
  corrupt: (reason) =>
    new MaestroError('SETTINGS_CORRUPT', `settings file ${path} is not valid (${reason}); fix or move it aside, maestro changed nothing`, {path}),
})

/**
 * recordingLimitMB for archiving an agent's output: a settings file that cannot be read gives the
 * default rather than stopping a `kill` or a `new` that asked for no setting.
 */
export async function recordingLimitMB(dirs: Dirs): Promise<number> {
  const settings = await readSettings(dirs).catch(() => ({}) as Settings)
  return settings.recordingLimitMB ?? DEFAULT_RECORDING_LIMIT_MB
}

/** What `maestro config` shows and changes: the settings, and whether notes are encrypted. */
export interface Config extends Settings {
  encryptNotes: 'on' | 'off'
}

export const CONFIG_KEYS = [...SETTING_KEYS, 'encryptNotes'] as const
export type ConfigKey = (typeof CONFIG_KEYS)[number]

/** The settings, with encryptNotes read from the notes themselves (the one place that knows). */
export async function readConfig(dirs: Dirs): Promise<Config> {
  const {notesEncrypted} = await import('./notes.js')
  return {...(await readSettings(dirs)), encryptNotes: (await notesEncrypted(dirs)) ? 'on' : 'off'}
}

/**
 * Changes one setting, or (encryptNotes) encrypts or decrypts every note and archived note;
 * `undefined` removes a setting.
 */
export async function changeConfig(dirs: Dirs, key: ConfigKey, value: string | undefined): Promise<Config> {
  if (key === 'encryptNotes') {
    if (value !== 'on' && value !== 'off') throw new MaestroError('INVALID_ARGUMENT', `encryptNotes is on or off, not ${value === undefined ? 'unset' : `"${value}"`}`)
    const {setNotesEncryption} = await import('./notes.js')
    await setNotesEncryption(dirs, value === 'on')
  } else await writeSetting(dirs, key, value)
  return readConfig(dirs)
}

export async function readSettings(dirs: Dirs): Promise<Settings> {
  return readJsonFile(settingsFile(settingsPath(dirs)))
}

export async function writeSetting(dirs: Dirs, key: SettingKey, value: string | undefined): Promise<Settings> {
  const parsed = value === undefined ? undefined : parse(key, value)
  return updateJsonFile(settingsFile(settingsPath(dirs)), (settings) => {
    if (parsed === undefined) delete settings[key]
    else (settings as Record<SettingKey, unknown>)[key] = parsed
    return {...settings}
  })
}

function parse(key: SettingKey, value: string): string | number | string[] {
  const rule = RULES[key]
  if (rule.kind === 'text') return value
  if (rule.kind === 'command') return parseCommand(value)
  const number = Number(value)
  if (value.trim() === '' || !fits(rule, number)) throw new MaestroError('INVALID_ARGUMENT', `${key} must be ${expected(rule)}, not "${value}"`)
  return number
}

/** A command as a JSON array of strings: a shell string would be parsed, and could run anything. */
function parseCommand(value: string): string[] {
  let command: unknown
  try {
    command = JSON.parse(value)
  } catch {
    command = undefined
  }
  if (!fits(RULES.onStateChange, command)) {
    throw new MaestroError('INVALID_ARGUMENT', `onStateChange must be a JSON array of the program and its arguments, e.g. '["notify-send", "maestro"]', not ${value}`)
  }
  return command as string[]
}
