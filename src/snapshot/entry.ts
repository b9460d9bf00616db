// The entry of the startup snapshot (scripts/snapshot.js): oclif and every command, loaded once
// when the snapshot is built, so that a run starts with them in memory instead of reading and
// running the bundle. Nothing here may depend on the environment of the build: that is read by
// each run (see tripwire.ts and deferred.ts).
import {check} from './tripwire.js'

import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {startupSnapshot} from 'node:v8'

import * as index from '../index.js'

/** Set by the bundle's wrapper (scripts/bundle.js): how the bundled code reaches the world outside it. */
declare const __maestroRuntime: {require: NodeJS.Require; url: string}
/** package.json's oclif.commands.target: src/index.ts as bundled, where oclif finds the commands and the help class. */
declare const __COMMANDS_TARGET__: string
declare const __filename: string

check(__filename)

// Listeners that module initialisation put on the standard streams (oclif ignores EPIPE on
// stdout) belong to the streams of each run: the build's own are gone by then.
const streamListeners = (['stdout', 'stderr'] as const).map((name) => ({name, error: process[name].listeners('error')}))

startupSnapshot.setDeserializeMainFunction(() => {
  // The launcher passes bin/run.js first, as `node bin/run.js` would have it.
  const bin = resolve(process.argv[1])
  process.argv[1] = bin
  const root = dirname(dirname(bin))
  for (const {name, error} of streamListeners) for (const listener of error) process[name].on('error', listener as (error: Error) => void)
  const real = createRequire(join(root, 'package.json'))
  const target = join(root, __COMMANDS_TARGET__)
  // oclif loads the commands and the help class from that module, by its URL; this bundle holds it.
  const load = (id: string) => {
    const path = id.startsWith('file:') ? fileURLToPath(id) : id
    return path === target ? index : real(path)
  }
  __maestroRuntime.require = Object.assign(load, {resolve: real.resolve, cache: real.cache, main: undefined, extensions: real.extensions})
  // Two levels below the root, like the modules that find files relative to their own URL.
  __maestroRuntime.url = pathToFileURL(join(root, 'dist', 'snapshot', 'entry.cjs')).href
  return index.execute({dir: bin})
})
