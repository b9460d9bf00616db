// Bundles oclif and every command twice, both part of `npm run build`, after tsc:
// - dist/cli/index.js, the ES module bin/run.js loads: Node starts a command much sooner from one
//   file than from the hundred-odd modules it is made of. What only some commands use (the server,
//   node-pty, ws, open...) stays out of it: the server as a chunk of its own, imported by `serve` alone,
//   and the other dependencies as they are in node_modules.
// - dist/snapshot/entry.cjs, the same as one CommonJS script, from which scripts/snapshot.js
//   builds the V8 startup snapshot that bin/maestro starts from.
import {readFile} from 'node:fs/promises'
import {createRequire} from 'node:module'
import {fileURLToPath} from 'node:url'

import * as esbuild from 'esbuild'

const root = new URL('..', import.meta.url)
const pjson = JSON.parse(await readFile(new URL('package.json', root), 'utf8'))
// Only oclif is bundled; oclif requires typescript only in development.
const external = [...Object.keys(pjson.dependencies).filter((name) => name !== '@oclif/core'), 'typescript']
const path = (relative) => fileURLToPath(new URL(relative, root))

/**
 * Small changes to oclif's Config.load, each keeping what it does for maestro, that save work on
 * every start. Each names the exact text it replaces, so that an oclif that changed it fails the
 * build here instead of being patched wrongly.
 */
const OCLIF_PATCHES = [
  {
    // Sorting command ids with localeCompare sets up an ICU collator, the dearest step of a start.
    // Ids are lower-case words, ordered alike by code point; help sorts them again on its own.
    file: '@oclif/core/lib/config/plugin.js',
    from: '.sort((a, b) => a.id.localeCompare(b.id));',
    to: '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));',
  },
  {
    // Compiling a minimatch pattern for each plugin name costs more than loading the plugin; a
    // name without glob characters matches only itself.
    file: '@oclif/core/lib/config/plugin-loader.js',
    from: 'patterns.some((w) => (0, minimatch_1.minimatch)(p, w))',
    to: 'patterns.some((w) => (/^[\\w@./-]+$/.test(w) ? p === w : (0, minimatch_1.minimatch)(p, w)))',
  },
]

OCLIF_PATCHES.push({
  // Whether this is WSL comes from is-wsl; wsl-utils, which oclif imports to read it, also sets up
  // PowerShell helpers and costs a tenth of a start. The same value, from its source.
  file: '@oclif/core/lib/util/os.js',
  from: "return (await import('wsl-utils')).isWsl ? 'wsl' : (0, node_os_1.platform)();",
  to: "return (await import('is-wsl')).default ? 'wsl' : (0, node_os_1.platform)();",
})

OCLIF_PATCHES.push({
  // Every Config.load sets the logger, and a command's run loads the Config again: the default
  // logger (and with it the `debug` module) was made each time even though set() keeps the first.
  file: '@oclif/core/lib/logger.js',
  from: `    else {
        set(makeLogger(OCLIF_NS));
    }`,
  to: `    else if (!cachedLoggers.has('root')) {
        set(makeLogger(OCLIF_NS));
    }`,
})

OCLIF_PATCHES.push({
  // Command.run loads the Config it is handed again, so that a plugin built on another
  // @oclif/core gets a Config of its own version: the whole Config.load (platform, shell, theme,
  // plugins, commands) a second time on every run. A Config of this very @oclif/core is that already.
  file: '@oclif/core/lib/config/config.js',
  from: `        if (isConfig(opts)) {
            debug(\`reloading config from \${opts._base} to \${BASE}\`);`,
  to: `        if (isConfig(opts) && opts._base === BASE)
            return opts;
        if (isConfig(opts)) {
            debug(\`reloading config from \${opts._base} to \${BASE}\`);`,
})

OCLIF_PATCHES.push({
  // The flag parser read CLI_FLAGS_DEBUG when it loaded, which kept it out of the snapshot (each
  // run loaded it, and node:readline with it, before parsing): read when it first logs instead.
  file: '@oclif/core/lib/parser/parse.js',
  from: `let debug;
try {
    debug =
        process.env.CLI_FLAGS_DEBUG === '1'
            ? (0, logger_1.makeDebug)('parser')
            : () => {
                // noop
            };
}
catch {
    debug = () => {
        // noop
    };
}`,
  to: `let parserDebug;
const debug = (...args) => {
    if (parserDebug === undefined) {
        try {
            parserDebug = process.env.CLI_FLAGS_DEBUG === '1' ? (0, logger_1.makeDebug)('parser') : () => {};
        }
        catch {
            parserDebug = () => {};
        }
    }
    return parserDebug(...args);
};`,
})

OCLIF_PATCHES.push({
  // readJson keeps the text of every package.json and manifest it read: in the snapshot that was
  // maestro's manifest and its plugins' files, as they were at build time, read again by a run
  // only when they changed since. Nothing is kept while the snapshot is built.
  file: '@oclif/core/lib/util/fs.js',
  from: `        if ((0, util_1.isProd)() ?? false) {`,
  to: `        if (((0, util_1.isProd)() ?? false) && !require('node:v8').startupSnapshot.isBuildingSnapshot()) {`,
})

const patchOclif = {
  name: 'patch-oclif',
  setup(build) {
    for (const {file, from, to} of OCLIF_PATCHES) {
      const filter = new RegExp(`node_modules/${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`)
      build.onLoad({filter}, async (args) => {
        const source = await readFile(args.path, 'utf8')
        if (!source.includes(from)) throw new Error(`${file} no longer contains the code scripts/bundle.js patches: ${from}`)
        return {contents: source.replace(from, to), loader: 'js'}
      })
    }
  },
}

await esbuild.build({
  entryPoints: [path('src/index.ts')],
  outdir: path('dist/cli/'),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Less to parse on every start.
  minify: true,
  external,
  // oclif is CommonJS: its require() calls need a require in an ES module.
  banner: {js: "import {createRequire as __cr} from 'node:module';const require=__cr(import.meta.url);"},
  plugins: [patchOclif],
  logLevel: 'warning',
})

/**
 * Modules that read the environment (colour support, terminal width, TERM, DEBUG...) when they
 * load. In the snapshot each one is replaced by a stand-in (src/snapshot/deferred.ts) that loads
 * it on first use, in the run; src/snapshot/tripwire.ts fails the build when another module does so.
 */
const DEFERRED = [
  'ansis',
  'supports-color',
  'debug',
  'clean-stack',
  'ansi-escapes',
  'minimatch',
  'tinyglobby',
  '@oclif/core/lib/screen.js',
  '@oclif/core/lib/ux/index.js',
]

/** node_modules/<name>/ of a file, or undefined. */
const packageOf = (file) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(file)?.[1]

const deferModules = {
  name: 'defer-modules',
  setup(build) {
    const shim = path('src/snapshot/deferred.ts')
    build.onResolve({filter: /.*/}, async (args) => {
      if (args.namespace === 'deferred' || args.pluginData?.resolving || args.kind === 'entry-point') return undefined
      const result = await build.resolve(args.path, {kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: {resolving: true}})
      if (result.errors.length > 0 || result.external) return undefined
      const inside = result.path.split('/node_modules/').at(-1)
      const name = packageOf(result.path)
      const match = DEFERRED.find((entry) => entry === inside || (entry === name && packageOf(args.importer) !== name))
      return match ? {path: result.path, namespace: 'deferred', pluginData: {name: match}} : undefined
    })
    build.onLoad({filter: /.*/, namespace: 'deferred'}, (args) => ({
      contents: `const {deferred} = require(${JSON.stringify(shim)});\nmodule.exports = deferred(${JSON.stringify(args.pluginData.name)}, () => require(${JSON.stringify(args.path)}));\n`,
      loader: 'js',
      resolveDir: path('.'),
    }))
  },
}

/**
 * One non-ASCII character would make V8 keep the whole snapshot source as a two-byte string: twice
 * the bytes, which every start reads. esbuild escapes them in strings and drops comments, but leaves
 * regular expressions as written: escaped here, they match the same.
 */
const asciiSources = {
  name: 'ascii-sources',
  setup(build) {
    build.onLoad({filter: /node_modules\/.*\.[cm]?js$/}, async (args) => {
      const source = await readFile(args.path, 'utf8')
      if (!/[^\0-\x7F]/.test(source)) return undefined
      return {contents: source.replace(/[^\0-\x7F]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`), loader: 'js'}
    })
  },
}

await esbuild.build({
  entryPoints: [path('src/snapshot/entry.ts')],
  outfile: path('dist/snapshot/entry.cjs'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  // Every start reads the snapshot, whose size its source adds to: without spaces and comments,
  // yet with their names for readable stack traces. The tripwire finds modules through the map.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: 'external',
  external,
  // A snapshot has no ES module loader: import() becomes require(), which in Node 20.19+ loads
  // ES modules too. import() of an ES module gives its namespace, so one passes through as it is.
  supported: {'dynamic-import': false},
  define: {'import.meta.url': '__maestroRuntime.url', __COMMANDS_TARGET__: JSON.stringify(pjson.oclif.commands.target)},
  // While the snapshot is built, require() reaches only Node's own modules; each run hands in its
  // own (src/snapshot/entry.ts).
  banner: {js: 'var __maestroRuntime = {require, url: ""};\n(function (require) {'},
  footer: {
    js: [
      // The view of a CommonJS module an importer gets defines a getter for each of its exports:
      // made once per module (again if it has more exports since, as one still loading would), the
      // views of node:fs, node:process... built with the snapshot serve the modules a run loads too
      // (is-wsl and its kin, on every start) instead of new ones each time.
      '__toESM = ((toESM, views) => (mod, isNodeMode, target) => {',
      '  if (mod?.[Symbol.toStringTag] === "Module") return mod;',
      '  if (target || mod === null || (typeof mod !== "object" && typeof mod !== "function")) return toESM(mod, isNodeMode, target);',
      '  const made = views[isNodeMode ? 1 : 0];',
      '  const exports = Object.getOwnPropertyNames(mod).length;',
      '  let view = made.get(mod);',
      '  if (view?.exports !== exports) made.set(mod, (view = {exports, view: toESM(mod, isNodeMode)}));',
      '  return view.view;',
      '})(__toESM, [new WeakMap(), new WeakMap()]);',
      '})(Object.assign((id) => __maestroRuntime.require(id), {resolve: (id, options) => __maestroRuntime.require.resolve(id, options)}));',
    ].join('\n'),
  },
  plugins: [patchOclif, deferModules, asciiSources],
  logLevel: 'warning',
})

// Our own sources are ASCII too: write regular expressions with \u escapes.
const snapshotSource = await readFile(path('dist/snapshot/entry.cjs'), 'utf8')
const nonAscii = /[^\0-\x7F]/.exec(snapshotSource)
if (nonAscii) throw new Error(`dist/snapshot/entry.cjs must be ASCII; escape the character in: ${snapshotSource.slice(nonAscii.index - 60, nonAscii.index + 20)}`)
