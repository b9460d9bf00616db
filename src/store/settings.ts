import {MaestroError} from '../shared/errors.js'
import {configDir, ensurePrivateDir} from './files.js'

export interface Settings {
  /** The command a new agent runs when `--cmd` is not given. */
  defaultCommand?: string
  /** How many days a browser signed in to `maestro serve` stays signed in. */
  sessionDays?: number
  /** Where `new --worktree` makes worktrees; default: `worktrees` in the state directory. */
  worktreeDir?: string
}

export const SETTING_KEYS = ['defaultCommand', 'sessionDays', 'worktreeDir'] as const
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
      schema: {defaultCommand: {type: 'string'}, sessionDays: {type: 'number', exclusiveMinimum: 0, maximum: 3650}, worktreeDir: {type: 'string'}},
    })
  } catch (error) {
    throw new MaestroError('SETTINGS_CORRUPT', `settings file in ${configDir()} is not valid: ${(error as Error).message}`)
  }
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

function parse(key: SettingKey, value: string): string | number {
  if (key !== 'sessionDays') return value
  const days = Number(value)
  if (!(days > 0 && days <= 3650)) throw new MaestroError('INVALID_ARGUMENT', `sessionDays must be a number of days above 0 and at most 3650, not "${value}"`)
  return days
}
