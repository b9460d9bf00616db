#!/usr/bin/env node
// Starts maestro from the bundle of oclif and the commands (scripts/bundle.js), one file quicker
// to load than the modules it is made of. bin/maestro, the command users run, starts from the
// startup snapshot instead and comes here when there is none for this Node.
import {execute} from '../dist/cli/index.js'

await startSnapshotBuild()
await execute({dir: import.meta.url})

/**
 * When the snapshot is missing or was built by another Node, builds one for this Node in the
 * background, for the next run; nothing waits for it.
 */
async function startSnapshotBuild() {
  const {snapshotWanted, snapshotScript} = await import('../scripts/snapshot.js')
  if (!snapshotWanted()) return
  const {spawn} = await import('node:child_process')
  spawn(process.execPath, [snapshotScript], {detached: true, stdio: 'ignore'}).on('error', () => {}).unref()
}
