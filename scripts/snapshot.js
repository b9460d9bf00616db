// Builds dist/snapshot/maestro.blob, the V8 startup snapshot bin/maestro starts from, from
// dist/snapshot/entry.cjs (scripts/bundle.js), for the Node binary running this script: a
// snapshot only loads in the very Node that built it. Part of `npm run build`; bin/run.js also
// runs it in the background when it finds the snapshot missing or built by another Node.
// Needs Node only, so it also works where the dev dependencies are not installed.
import {execFileSync} from 'node:child_process'
import {accessSync, closeSync, constants, existsSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const dir = fileURLToPath(new URL('../dist/snapshot/', import.meta.url))
const entry = `${dir}entry.cjs`
const blob = `${dir}maestro.blob`
/**
 * Carries the modification time of the Node binary the blob was built by, and on its first line
 * the V8 flags it was built with, for bin/maestro to compare.
 */
const stamp = `${dir}node`
const lock = `${dir}building`

/**
 * V8 flags the snapshot is built and run with: it loads only with the very flags it was built
 * with, so bin/maestro passes these same ones. A young generation of 16 MB from the start: a
 * command's short life then has no garbage collection to wait for (`ls` of 500 agents had four).
 */
export const V8_FLAGS = ['--min-semi-space-size=16']

export const snapshotScript = fileURLToPath(import.meta.url)

/**
 * Whether a build would help: this Node can run a snapshot, there is an entry to build it from
 * and a directory to write it to, and the blob is missing or was built by another Node.
 */
export function snapshotWanted() {
  if (!process.features.require_module || !existsSync(entry) || snapshotIsCurrent()) return false
  try {
    accessSync(dir, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/** Whether the blob exists and was built by this Node, with these flags, from the current entry. */
export function snapshotIsCurrent() {
  try {
    const built = statSync(stamp, {bigint: true})
    return (
      statSync(process.execPath, {bigint: true}).mtimeNs === built.mtimeNs &&
      readFileSync(stamp, 'utf8').split('\n')[0] === V8_FLAGS.join(' ') &&
      statSync(blob).mtimeMs >= statSync(entry).mtimeMs
    )
  } catch {
    return false
  }
}

export function buildSnapshot() {
  if (!process.features.require_module) {
    // Without require() of ES modules (Node before 20.19) the snapshot could not load open and the other ES-module dependencies
    rmSync(stamp, {force: true})
    return false
  }
  let held
  try {
    held = openSync(lock, 'wx')
  } catch {
    // Another maestro is building it; a lock older than a minute belonged to one that died.
    if (Date.now() - statSync(lock, {throwIfNoEntry: false})?.mtimeMs < 60_000) return false
    rmSync(lock, {force: true})
    held = openSync(lock, 'wx')
  }
  try {
    const temporary = `${blob}.${process.pid}.tmp`
    try {
      execFileSync(process.execPath, [...V8_FLAGS, '--snapshot-blob', temporary, '--build-snapshot', entry], {stdio: ['ignore', 'ignore', 'pipe'], env: {...process.env, NODE_OPTIONS: ''}})
    } catch (error) {
      rmSync(temporary, {force: true})
      throw new Error(`building the startup snapshot failed:\n${error.stderr?.toString() || error.message}`)
    }
    rmSync(stamp, {force: true})
    renameSync(temporary, blob)
    writeFileSync(stamp, `${V8_FLAGS.join(' ')}\n${process.version} ${process.execPath}\n`)
    // The exact time, to the nanosecond, for the launcher's `-nt`/`-ot` comparison.
    execFileSync('touch', ['-r', process.execPath, stamp])
    return true
  } finally {
    closeSync(held)
    rmSync(lock, {force: true})
  }
}

if (process.argv[1] === snapshotScript) {
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build`)
  console.log(buildSnapshot() ? `startup snapshot: ${blob} (${process.version})` : 'startup snapshot: not built (needs Node 20.19 or later)')
}
