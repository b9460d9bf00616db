import {homedir} from 'node:os'
import {join} from 'node:path'

/** maestro keeps its agents on a tmux server of its own, so it never touches the user's sessions. */
export const DEFAULT_SOCKET = 'maestro'

/**
 * What a maestro process learns from its environment, read once by `readContext` and handed
 * down to what needs it: no other module reads the environment. Tests build their own.
 *
 * The settings (settings.json, `maestro config`) are not in it: they are read from `configDir`
 * where a setting is used, so that a command needing none (`ls`, `report`, `send`, `capture`)
 * never reads the file, and a running server uses the grace and limits `maestro config` set
 * after it started. The passphrase is not in it either (store/passphrase.ts says why).
 */
export interface Context {
  /** maestro's tmux server socket: MAESTRO_TMUX_SOCKET, else "maestro" (a command's --socket wins). */
  socket: string
  /** Notes, settings, hosts: MAESTRO_CONFIG_DIR, else the XDG config dir. */
  configDir: string
  /** Archives, recordings, the audit log, TLS keys: MAESTRO_STATE_DIR, else the XDG state dir. */
  stateDir: string
  /** MAESTRO_SSH_CONFIG: an ssh configuration of maestro's own, in place of ~/.ssh/config (ssh -F). */
  sshConfig: string | undefined
  /** The agent this process runs in (MAESTRO_AGENT, which maestro gives each agent), and its tmux pane (TMUX_PANE). */
  self: {agent: string | undefined; pane: string | undefined}
  /** The tmux client this process runs in (TMUX), if any. */
  tmuxClient: string | undefined
  /** Whether output may be coloured: NO_COLOR is not set. */
  colour: boolean
  /** The user's editor and its arguments: VISUAL, else EDITOR, else vi. */
  editor: string
  home: string
  /**
   * The environment the programs maestro starts inherit (editors, git, tmux clients, notifiers):
   * a command's own process.env, from which MAESTRO_PASSPHRASE and MAESTRO_TOKEN are deleted once
   * taken, so that no child inherits them.
   */
  env: NodeJS.ProcessEnv
}

/**
 * Where maestro keeps its files, as the store's modules take it: a process passes its context,
 * a test the context of its sandbox.
 */
export type Dirs = Pick<Context, 'configDir' | 'stateDir'>

/**
 * Builds the context from an environment: a command's, once per process, at run time (never
 * while the startup snapshot is built: the environment then is the build's, not the user's).
 */
export function readContext(env: NodeJS.ProcessEnv): Context {
  const home = env.HOME || homedir()
  return {
    socket: env.MAESTRO_TMUX_SOCKET || DEFAULT_SOCKET,
    configDir: env.MAESTRO_CONFIG_DIR || join(env.XDG_CONFIG_HOME || join(home, '.config'), 'maestro'),
    stateDir: env.MAESTRO_STATE_DIR || join(env.XDG_STATE_HOME || join(home, '.local', 'state'), 'maestro'),
    sshConfig: env.MAESTRO_SSH_CONFIG || undefined,
    self: {agent: env.MAESTRO_AGENT || undefined, pane: env.TMUX_PANE || undefined},
    tmuxClient: env.TMUX || undefined,
    colour: !env.NO_COLOR,
    editor: env.VISUAL || env.EDITOR || 'vi',
    home,
    env,
  }
}

/** Where bin/maestro keeps NODE_EXTRA_CA_CERTS while Node starts without it (see the launcher). */
const LAUNCH_CA_CERTS = 'MAESTRO_LAUNCH_NODE_EXTRA_CA_CERTS'

/**
 * Gives this process's environment back the NODE_EXTRA_CA_CERTS that bin/maestro set aside, before
 * anything starts a program that should inherit it: agents, tmux, git, editors. Run first thing.
 */
export function restoreLaunchEnvironment(): void {
  const saved = process.env[LAUNCH_CA_CERTS]
  if (saved === undefined) return
  process.env.NODE_EXTRA_CA_CERTS = saved
  delete process.env[LAUNCH_CA_CERTS]
}
