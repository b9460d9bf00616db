import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../base-command.js'
import {MaestroError} from '../shared/errors.js'
import {allowPassphrasePrompt} from '../store/passphrase.js'
import {CONFIG_KEYS, type Config as Shown, type ConfigKey, changeConfig, readConfig} from '../store/settings.js'

export default class Config extends BaseCommand<typeof Config> {
  static summary = 'Show or change settings; without arguments, list them.'
  static description = `Settings: ${CONFIG_KEYS.join(', ')}. defaultCommand is what a new agent runs without --cmd; worktreeDir is where new --worktree makes worktrees (default: worktrees in the state directory); onStateChange is a command as a JSON array, run when an agent starts waiting or exits; killGraceSeconds (default 5) is how long kill waits after SIGHUP and again after SIGTERM before the next signal; recordingLimitMB (default 64) is the most MiB an agent's recording keeps, dropping its oldest output beyond; encryptNotes on encrypts every note and archived note with a passphrase (MAESTRO_PASSPHRASE, else asked on the terminal), off decrypts them.`
  static examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> defaultCommand claude', '<%= config.bin %> <%= command.id %> defaultCommand --unset', '<%= config.bin %> <%= command.id %> encryptNotes on']
  static args = {
    key: Args.string({description: 'Setting name', options: [...CONFIG_KEYS]}),
    value: Args.string({description: 'New value'}),
  }
  static flags = {
    unset: Flags.boolean({summary: 'Remove the setting.'}),
  }

  async run(): Promise<Shown> {
    const {key, value} = this.args
    if ((value !== undefined || this.flags.unset) && !key) throw new MaestroError('INVALID_ARGUMENT', 'name the setting to change')
    if (value !== undefined && this.flags.unset) throw new MaestroError('INVALID_ARGUMENT', '--unset takes no value')
    allowPassphrasePrompt()
    const settings = value !== undefined || this.flags.unset ? await changeConfig(this.context, key as ConfigKey, value) : await readConfig(this.context)
    if (!this.jsonEnabled()) {
      const shown = key ? [key] : CONFIG_KEYS
      for (const name of shown) this.log(`${name} = ${display(settings[name as ConfigKey])}`)
    }
    return settings
  }
}

function display(value: Shown[ConfigKey]): string {
  if (value === undefined) return '(not set)'
  return Array.isArray(value) ? JSON.stringify(value) : String(value)
}
