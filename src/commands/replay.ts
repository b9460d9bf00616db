import * as Args from '@oclif/core/args'
import * as Flags from '@oclif/core/flags'
import {readFile} from 'node:fs/promises'

import {BaseCommand} from '../base-command.js'
import {play} from '../replay.js'
import {duration, parseCast} from '../shared/cast.js'
import {MaestroError} from '../shared/errors.js'
import {archivedRecording} from '../store/archive-list.js'

export interface ReplayResult {
  name: string
  id: string
  path: string
  width: number
  height: number
  /** Seconds the replay lasts at speed 1, pauses cut to 2 s. */
  duration: number
  events: number
}

export default class Replay extends BaseCommand<typeof Replay> {
  static summary = "Play an archived agent's recording in this terminal (q quits)."
  static description =
    'Plays recording.cast of the newest archive of NAME (or the one --at names) at the pace it was recorded, pauses longer than 2 s cut to 2 s. ' +
    'With --json it plays nothing and describes the recording instead. Any asciicast player (asciinema play FILE) plays the same file.'
  static examples = ['<%= config.bin %> <%= command.id %> api', '<%= config.bin %> <%= command.id %> api --speed 4', '<%= config.bin %> <%= command.id %> api --at 2026-12-02T06-31-53.067Z']
  static args = {name: Args.string({description: 'Name of the killed agent (HOST:NAME for a remote host\'s)', required: true})}
  static flags = {
    at: Flags.string({summary: 'The archive to play, by its id (archive ls lists them); default: the newest.'}),
    speed: Flags.string({summary: 'Play this many times faster (0.5 is slower).', default: '1'}),
  }

  async run(): Promise<ReplayResult> {
    const speed = Number(this.flags.speed)
    if (!(speed > 0 && speed <= 1000)) throw new MaestroError('INVALID_ARGUMENT', `--speed must be a number above 0 and at most 1000, not "${this.flags.speed}"`)
    const {entry, path} = await archivedRecording(this.context, this.args.name, this.flags.at)
    let cast
    try {
      cast = parseCast(await readFile(path, 'utf8'))
    } catch (error) {
      throw new MaestroError('RECORDING_NOT_FOUND', `${path} is not a recording maestro can play: ${(error as Error).message}`, {name: entry.name, at: entry.id})
    }
    const result = {name: entry.name, id: entry.id, path, width: cast.header.width, height: cast.header.height, duration: duration(cast), events: cast.events.length}
    if (this.jsonEnabled()) return result
    const {columns, rows} = process.stdout
    if (process.stdout.isTTY && (columns !== cast.header.width || rows !== cast.header.height)) {
      this.logToStderr(`recorded at ${cast.header.width}x${cast.header.height}, this terminal is ${columns}x${rows}: lines may wrap differently`)
    }
    await play(cast, {speed, output: process.stdout, input: process.stdin})
    return result
  }
}
