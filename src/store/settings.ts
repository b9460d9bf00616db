import {readFile} from 'node:fs/promises'
import {join} from 'node:path'

import {MaestroError} from '../shared/errors.js'
import {configDir, ensurePrivateDir} from './files.js'

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

// conf is loaded on demand: only `new` and `config` read settings, and its import is heavy.
async function open() {
  const {default: Conf} = await import('conf')
  await ensurePrivateDir(configDir())
  try {
    return new Conf<Settings>({
      projectName: 'maestro',
      cwd: configDir(),
      configName: 'settings',
      configFileMode: 0o600,
      schema: {defaultCommand: {type: 'string'}, sessionDays: {type: 'number', exclusiveMinimum: 0, maximum: 3650}, worktreeDir: {type: 'string'}, onStateChange: {type: 'array', items: {type: 'string'}, minItems: 1}, killGraceSeconds: {type: 'number', minimum: 0, maximum: 600}, recordingLimitMB: {type: 'number', exclusiveMinimum: 0, maximum: MAX_RECORDING_LIMIT_MB}},
    })
  } catch (error) {
    throw new MaestroError('SETTINGS_CORRUPT', `settings file in ${configDir()} is not valid: ${(error as Error).message}`)
  }
}

export const DEFAULT_RECORDING_LIMIT_MB = 64
const MAX_RECORDING_LIMIT_MB = 102_400

/**
 * recordingLimitMB read straight from settings.json: every `new` needs it, and loading conf costs
 * a quarter of a second. `config` wrote the file through the schema; a value that does not fit it
 * anyway (a hand edit) gives the default, as does a missing or unreadable file.
 */
export async function recordingLimitMB(): Promise<number> {
  let value: unknown
  try {
    value = (JSON.parse(await readFile(join(configDir(), 'settings.json'), 'utf8')) as Settings).recordingLimitMB
  } catch {
    value = undefined
  }
  return typeof value === 'number' && value > 0 && value <= MAX_RECORDING_LIMIT_MB ? value : DEFAULT_RECORDING_LIMIT_MB
}

/** What `maestro config` shows and changes: the settings, and whether notes are encrypted. */
export interface Config extends Settings {
  encryptNotes: 'on' | 'off'
}

export const CONFIG_KEYS = [...SETTING_KEYS, 'encryptNotes'] as const
export type ConfigKey = (typeof CONFIG_KEYS)[number]

/** The settings, with encryptNotes read from the notes themselves (the one place that knows). */
export async function readConfig(): Promise<Config> {
  const {notesEncrypted} = await import('./notes.js')
  return {...(await readSettings()), encryptNotes: (await notesEncrypted()) ? 'on' : 'off'}
}

/**
 * Changes one setting, or (encryptNotes) encrypts or decrypts every note and archived note;
 * `undefined` removes a setting.
 */
export async function changeConfig(key: ConfigKey, value: string | undefined): Promise<Config> {
  if (key === 'encryptNotes') {
    if (value !== 'on' && value !== 'off') throw new MaestroError('INVALID_ARGUMENT', `encryptNotes is on or off, not ${value === undefined ? 'unset' : `"${value}"`}`)
    const {setNotesEncryption} = await import('./notes.js')
    await setNotesEncryption(value === 'on')
  } else await writeSetting(key, value)
  return readConfig()
}

export async function readSettings(): Promise<Settings> {
  return {...(await open()).store}
}

export async function writeSetting(key: SettingKey, value: string | undefined): Promise<Settings> {
  const settings = await open()
  if (value === undefined) settings.delete(key)
  else settings.set(key, parse(key, value))
  return {...settings.store}
}

function parse(key: SettingKey, value: string): string | number | string[] {
  if (key === 'onStateChange') return parseCommand(value)
  if (key === 'recordingLimitMB') {
    const mb = Number(value)
    if (!(value.trim() !== '' && mb > 0 && mb <= MAX_RECORDING_LIMIT_MB)) throw new MaestroError('INVALID_ARGUMENT', `recordingLimitMB must be a number of MiB above 0 and at most ${MAX_RECORDING_LIMIT_MB}, not "${value}"`)
    return mb
  }
  if (key === 'killGraceSeconds') {
    const seconds = Number(value)
    if (!(value.trim() !== '' && seconds >= 0 && seconds <= 600)) throw new MaestroError('INVALID_ARGUMENT', `killGraceSeconds must be a number of seconds from 0 to 600, not "${value}"`)
    return seconds
  }
  if (key !== 'sessionDays') return value
  const days = Number(value)
  if (!(days > 0 && days <= 3650)) throw new MaestroError('INVALID_ARGUMENT', `sessionDays must be a number of days above 0 and at most 3650, not "${value}"`)
  return days
}

/** A command as a JSON array of strings: a shell string would be parsed, and could run anything. */
function parseCommand(value: string): string[] {
  let command: unknown
  try {
    command = JSON.parse(value)
  } catch {
    command = undefined
  }
  if (!Array.isArray(command) || command.length === 0 || !command.every((word) => typeof word === 'string' && word !== '')) {
    throw new MaestroError('INVALID_ARGUMENT', `onStateChange must be a JSON array of the program and its arguments, e.g. '["notify-send", "maestro"]', not ${value}`)
  }
  return command as string[]
}
