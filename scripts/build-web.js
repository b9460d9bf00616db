// Bundles the page (src/web) with esbuild into dist/web. Run by `npm run build`; `maestro serve`
// imports buildWeb() when the bundle is missing. The page is static files only: no inline scripts.
import {copyFile, mkdir} from 'node:fs/promises'
import {fileURLToPath} from 'node:url'

import * as esbuild from 'esbuild'

const root = new URL('..', import.meta.url)
export const WEB_OUTDIR = fileURLToPath(new URL('dist/web/', root))

export async function buildWeb({outdir = WEB_OUTDIR} = {}) {
  await mkdir(outdir, {recursive: true})
  await esbuild.build({
    entryPoints: [fileURLToPath(new URL('src/web/main.ts', root))],
    bundle: true,
    minify: true,
    format: 'esm',
    target: 'es2022',
    outfile: `${outdir}/app.js`,
    tsconfig: fileURLToPath(new URL('src/web/tsconfig.json', root)),
    logLevel: 'warning',
  })
  await copyFile(new URL('src/web/index.html', root), `${outdir}/index.html`)
  return outdir
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(`web bundle: ${await buildWeb()}`)
}
