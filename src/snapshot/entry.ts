// The entry of the startup snapshot (scripts/snapshot.js): oclif and every command, loaded once
// when the snapshot is built, so that a run starts with them in memory instead of reading and
// running the bundle. Nothing here may depend on the environment of the build: that is read by
// each run (see tripwire.ts and deferred.ts).
import {check} from './tripwire.js'

import {realpathSync, statSync} from 'node:fs'
import {createRequire} from 'node:module'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'
import {startupSnapshot} from 'node:v8'

import type {Logger} from '@oclif/core/interfaces'
import {clearLoggers, setLogger} from '@oclif/core/logger'

import * as index from '../index.js'
// Not among @oclif/core's exports; the same module its Config uses.
import pluginLoader from '../../node_modules/@oclif/core/lib/config/plugin-loader.js'
// Loaded by ux/index.js, which each run loads itself (see scripts/bundle.js), yet as independent of
// the environment as the rest: loaded now, they are in the snapshot.
import '../../node_modules/@oclif/core/lib/ux/action/spinner.js'
import '../../node_modules/@oclif/core/lib/ux/action/simple.js'
import '../../node_modules/@oclif/core/lib/ux/colorize-json.js'

/** Set by the bundle's wrapper (scripts/bundle.js): how the bundled code reaches the world outside it. */
declare const __maestroRuntime: {require: NodeJS.Require; url: string}
/** package.json's oclif.commands.target: src/index.ts as bundled, where oclif finds the commands and the help class. */
declare const __COMMANDS_TARGET__: string
declare const __filename: string

/** What oclif's logger does when DEBUG is unset, without loading `debug`. */
const SILENT: Logger = {namespace: 'oclif', child: () => SILENT, debug() {}, error() {}, info() {}, trace() {}, warn() {}}

const buildRoot = realpathSync(resolve(__filename, '..', '..', '..'))
/** What oclif reads of the environment while it loads plugins; the plugins are loaded for these values. */
const PLUGIN_ENV = ['NODE_ENV', 'OCLIF_DISABLE_RC', 'OCLIF_NEXT_VERSION']

/**
 * maestro's plugins (itself, help, autocomplete) as oclif's Config loads them, found and read
 * now rather than on every start: where they are and what their package.json and manifest say.
 * With the time of each file read, for a run to see whether they still hold.
 */
async function loadPlugins() {
  setLogger({root: buildRoot, logger: SILENT})
  const loader = new pluginLoader.default({root: buildRoot})
  const rootPlugin = await loader.loadRoot({pjson: undefined})
  await loader.loadChildren({rootPlugin, dataDir: '', userPlugins: false, devPlugins: false})
  clearLoggers()
  if (loader.errors.length > 0) throw new Error(`oclif could not load maestro's plugins: ${loader.errors.join('; ')}`)
  const files = [...loader.plugins.values()].flatMap(({root}) => [join(root, 'package.json'), join(root, 'oclif.manifest.json')])
  return {
    map: loader.plugins,
    root: rootPlugin.root,
    files: files.map((file) => ({file, mtime: statSync(file, {throwIfNoEntry: false})?.mtimeMs})),
    env: PLUGIN_ENV.map((name) => process.env[name]),
  }
}

type Plugins = Awaited<ReturnType<typeof loadPlugins>>

/** Whether the plugins read at build time are still those this run would read. */
function pluginsHold(plugins: Plugins, root: string): boolean {
  return (
    root === plugins.root &&
    PLUGIN_ENV.every((name, index) => process.env[name] === plugins.env[index]) &&
    plugins.files.every(({file, mtime}) => statSync(file, {throwIfNoEntry: false})?.mtimeMs === mtime)
  )
}

// A snapshot is taken once the build's event loop is empty: the plugins are loaded by then.
loadPlugins().then(
  (plugins) => {
    check(
      __filename,
      PLUGIN_ENV.map((name) => `process.env.${name}`),
    )
    // Listeners that module initialisation put on the standard streams (oclif ignores EPIPE on
    // stdout) belong to the streams of each run: the build's own are gone by then.
    const listeners = (['stdout', 'stderr'] as const).map((name) => ({name, error: process[name].listeners('error')}))
    startupSnapshot.setDeserializeMainFunction(() => main(plugins, listeners))
  },
  (error) => {
    console.error(error)
    process.exit(1)
  },
)

function main(plugins: Plugins, streamListeners: Array<{name: 'stdout' | 'stderr'; error: Function[]}>) {
  // The launcher passes bin/run.js first, as `node bin/run.js` would have it.
  const bin = resolve(process.argv[1])
  process.argv[1] = bin
  // The real directory, as `node bin/run.js` gives oclif (import.meta.url) through npm's links.
  const root = dirname(dirname(realpathSync(bin)))
  for (const {name, error} of streamListeners) for (const listener of error) process[name].on('error', listener as (error: Error) => void)
  const real = createRequire(join(root, 'package.json'))
  const target = join(root, __COMMANDS_TARGET__)
  // oclif loads the commands and the help class from that module, by its URL; this bundle holds it.
  const load = (id: string) => {
    const path = id.startsWith('file:') ? fileURLToPath(id) : id
    return path === target ? index : real(path)
  }
  // Resolving that module's own path is answered at once, without Node's resolver.
  const resolveId = Object.assign((id: string, options?: {paths?: string[]}) => (id === target ? target : real.resolve(id, options)), {paths: real.resolve.paths})
  __maestroRuntime.require = Object.assign(load, {resolve: resolveId, cache: real.cache, main: undefined, extensions: real.extensions})
  // Two levels below the root, like the modules that find files relative to their own URL.
  __maestroRuntime.url = pathToFileURL(join(root, 'dist', 'snapshot', 'entry.cjs')).href
  return index.execute({
    loadOptions: {
      root,
      plugins: pluginsHold(plugins, root) ? plugins.map : undefined,
      // DEBUG unset: oclif's debug output would print nothing.
      logger: process.env.DEBUG ? undefined : SILENT,
    },
  })
}
