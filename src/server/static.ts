import {access, readFile, readdir} from 'node:fs/promises'
import {extname, join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'

// Two levels below the project root as src/server (tsx), dist/server (tsc) and dist/cli (bundled).
const ROOT = new URL('../../', import.meta.url)
export const WEB_DIR = fileURLToPath(new URL('dist/web/', ROOT))

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.txt': 'text/plain; charset=utf-8',
}

export interface WebFile {
  body: Buffer
  type: string
}

export function contentType(path: string): string {
  return TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream'
}

/**
 * Every file of the page bundle, keyed by URL path (`/` is index.html). Held in memory: the page
 * is small, and nothing on disk is read while serving, so no request path can reach the disk.
 * Builds the bundle first when it is missing (a checkout that was never built).
 */
export async function loadWebFiles(dir = WEB_DIR): Promise<Map<string, WebFile>> {
  const built = await access(join(dir, 'index.html')).then(
    () => true,
    () => false,
  )
  if (!built) {
    const script = new URL('scripts/build-web.js', ROOT).href
    const {buildWeb} = (await import(script)) as {buildWeb: (options?: {outdir?: string}) => Promise<string>}
    await buildWeb({outdir: dir})
  }
  const files = new Map<string, WebFile>()
  for (const entry of await readdir(dir, {recursive: true, withFileTypes: true})) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    const urlPath = `/${relative(dir, path).split(sep).join('/')}`
    files.set(urlPath, {body: await readFile(path), type: contentType(path)})
  }
  const index = files.get('/index.html')
  if (index) files.set('/', index)
  return files
}
