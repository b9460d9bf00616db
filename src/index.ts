// The entry point of the bundle (scripts/bundle.js) and oclif's list of commands ("explicit"
// strategy in package.json): bin/run.js takes `execute` from here, so oclif and the commands
// load from one file.
import {execute as oclifExecute} from '@oclif/core/execute'

import ArchiveLs from './commands/archive/ls.js'
import ArchiveShow from './commands/archive/show.js'
import Attach from './commands/attach.js'
import Capture from './commands/capture.js'
import Config from './commands/config.js'
import Diff from './commands/diff.js'
import Doctor from './commands/doctor.js'
import HooksInstall from './commands/hooks/install.js'
import HooksStatus from './commands/hooks/status.js'
import HooksUninstall from './commands/hooks/uninstall.js'
import HostAdd from './commands/host/add.js'
import HostCheck from './commands/host/check.js'
import HostLs from './commands/host/ls.js'
import HostRm from './commands/host/rm.js'
import KillAll from './commands/kill-all.js'
import Kill from './commands/kill.js'
import Ls from './commands/ls.js'
import New from './commands/new.js'
import Note from './commands/note.js'
import Rename from './commands/rename.js'
import Replay from './commands/replay.js'
import Restart from './commands/restart.js'
import Report from './commands/report.js'
import Send from './commands/send.js'
import Serve from './commands/serve.js'
import Share from './commands/share/index.js'
import ShareLs from './commands/share/ls.js'
import ShareRevoke from './commands/share/revoke.js'
import Wait from './commands/wait.js'
import WorktreeLs from './commands/worktree/ls.js'
import WorktreeRm from './commands/worktree/rm.js'
import {startListingAgents} from './agents.js'
import {readContext, restoreLaunchEnvironment} from './context.js'

/** Runs the command in argv: bin/run.js and the startup snapshot both start here. */
export function execute(options: Parameters<typeof oclifExecute>[0]): ReturnType<typeof oclifExecute> {
  restoreLaunchEnvironment()
  // tmux lists the agents while oclif loads: with 500 of them, each takes about as long.
  if (Ls.listsOnce(options.args ?? process.argv.slice(2))) startListingAgents(readContext(process.env))
  return oclifExecute(options)
}
export {commandNotFound} from './unknown-command.js'

export const COMMANDS = {
  'archive:ls': ArchiveLs,
  'archive:show': ArchiveShow,
  attach: Attach,
  capture: Capture,
  config: Config,
  diff: Diff,
  doctor: Doctor,
  'hooks:install': HooksInstall,
  'hooks:status': HooksStatus,
  'hooks:uninstall': HooksUninstall,
  'host:add': HostAdd,
  'host:check': HostCheck,
  'host:ls': HostLs,
  'host:rm': HostRm,
  'kill-all': KillAll,
  kill: Kill,
  ls: Ls,
  new: New,
  note: Note,
  rename: Rename,
  replay: Replay,
  restart: Restart,
  report: Report,
  send: Send,
  serve: Serve,
  share: Share,
  'share:ls': ShareLs,
  'share:revoke': ShareRevoke,
  wait: Wait,
  'worktree:ls': WorktreeLs,
  'worktree:rm': WorktreeRm,
}

export {MaestroHelp} from './help.js'
