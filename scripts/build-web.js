// Bundles the page (src/web) with esbuild into dist/web: index.html, app.js and app.css (the
// page's styles and xterm's, imported by main.ts), plus chunks the page imports later (the WebGL
// renderer, loaded after the first paint so that it does not weigh on the first load). Run by `npm run build`; `maestro serve`
// imports buildWeb() when the bundle is missing. Static files only: the server's CSP forbids
// inline scripts and any other origin.
import {copyFile, mkdir, readFile, rm} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'
import {gzipSync} from 'node:zlib'

import * as esbuild from 'esbuild'

const root = new URL('..', import.meta.url)
export const WEB_OUTDIR = fileURLToPath(new URL('dist/web/', root))
/** Everything a first visit downloads. */
export const WEB_FILES = ['index.html', 'app.js', 'app.css']

export async function buildWeb({outdir = WEB_OUTDIR} = {}) {
  // Chunk names carry a hash: chunks of an earlier build would linger and be served.
  await rm(outdir, {recursive: true, force: true})
  await mkdir(outdir, {recursive: true})
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL('src/web/main.ts', root))],
    bundle: true,
    minify: true,
    format: 'esm',
    splitting: true,
    entryNames: 'app',
    chunkNames: 'chunk-[hash]',
    target: ['es2022', 'chrome111', 'firefox113', 'safari16.4'],
    outdir,
    tsconfig: fileURLToPath(new URL('src/web/tsconfig.json', root)),
    legalComments: 'none',
    logLevel: 'warning',
  })
  await copyFile(new URL('src/web/index.html', root), `${outdir}/index.html`)
  return outdir
}

/** Chunks that app.js imports statically (esbuild's shared code): they load with it, unlike `import()`. */
function staticChunks(appJs) {
  return [...appJs.matchAll(/(?:^|[;}])\s*import\s*(?:[\w*{}$,\s]*from\s*)?["']\.\/(chunk-[\w-]+\.js)["']/g)].map((match) => match[1])
}

/** Bytes of each first-load file, raw and gzipped (level 9, as a server or CDN would send it). */
export async function measureWeb(outdir = WEB_OUTDIR) {
  const names = [...WEB_FILES, ...staticChunks(await readFile(`${outdir}/app.js`, 'utf8'))]
  const files = await Promise.all(
    names.map(async (name) => {
      const data = await readFile(`${outdir}/${name}`)
      return {name, bytes: data.length, gzip: gzipSync(data, {level: 9}).length}
    }),
  )
  return {files, gzip: files.reduce((sum, file) => sum + file.gzip, 0)}
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const outdir = await buildWeb()
  const {files, gzip} = await measureWeb(outdir)
  const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`
  console.log(`web bundle: ${outdir}`)
  for (const file of files) console.log(`  ${file.name.padEnd(10)} ${kb(file.bytes).padStart(9)}  gzip ${kb(file.gzip).padStart(8)}`)
  console.log(`  first load gzip ${kb(gzip)}`)
}
