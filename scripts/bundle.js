// Bundles oclif and every command into dist/cli/index.js, the file bin/run.js loads: Node starts a
// command much sooner from one file than from the hundred-odd modules it is made of, each one
// resolved, read and compiled. What only some commands use (the server, conf, listr2...) stays out
// of it: the server as a chunk of its own, imported by `serve` alone, and the other dependencies
// as they are in node_modules. Part of `npm run build`, after tsc.
import {readFile} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'

import * as esbuild from 'esbuild'

const root = new URL('..', import.meta.url)
const {dependencies} = JSON.parse(await readFile(new URL('package.json', root), 'utf8'))

await esbuild.build({
  entryPoints: [fileURLToPath(new URL('src/index.ts', root))],
  outdir: fileURLToPath(new URL('dist/cli/', root)),
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  // Less to parse on every start.
  minify: true,
  // Only oclif is bundled; oclif requires typescript only in development.
  external: [...Object.keys(dependencies).filter((name) => name !== '@oclif/core'), 'typescript'],
  // oclif is CommonJS: its require() calls need a require in an ES module.
  banner: {js: "import {createRequire as __cr} from 'node:module';const require=__cr(import.meta.url);"},
  logLevel: 'warning',
})
