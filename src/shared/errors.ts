/**
 * Exit codes are part of maestro's public interface (README, "Exit codes"):
 * scripts branch on them, so they never change meaning.
 */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  tmuxMissing: 3,
} as const

export type ErrorCode =
  | 'AGENT_EXISTS'
  | 'AGENT_EXITED'
  | 'AGENT_NOT_FOUND'
  | 'AGENT_RUNNING'
  | 'ARCHIVE_NOT_FOUND'
  | 'BASE_NOT_FOUND'
  | 'BRANCH_EXISTS'
  | 'CONFIRMATION_REQUIRED'
  | 'DIR_NOT_FOUND'
  | 'EDITOR_FAILED'
  | 'GIT_FAILED'
  | 'GRANT_NOT_FOUND'
  | 'HOST_EXISTS'
  | 'HOSTS_CORRUPT'
  | 'HOST_NOT_FOUND'
  | 'HOST_UNREACHABLE'
  | 'INVALID_NAME'
  | 'INVALID_ARGUMENT'
  | 'KILL_INCOMPLETE'
  | 'NO_WORKTREE'
  | 'NOT_A_REPOSITORY'
  | 'NOTE_CONFLICT'
  | 'NOTES_CORRUPT'
  | 'NOTES_LOCKED'
  | 'NOTE_TOO_LARGE'
  | 'PORT_IN_USE'
  | 'RECORDING_NOT_FOUND'
  | 'SETTINGS_CORRUPT'
  | 'STORAGE_FAILED'
  | 'SSH_MISSING'
  | 'STORE_LOCKED'
  | 'TIMEOUT'
  | 'TLS_REQUIRED'
  | 'TMUX_FAILED'
  | 'TMUX_MISSING'
  | 'TMUX_TOO_OLD'
  | 'WORKTREE_IN_USE'
  | 'WORKTREE_NOT_FOUND'
  | 'WRONG_PASSPHRASE'
  | 'UNKNOWN_COMMAND'

const exitFor: Record<ErrorCode, number> = {
  AGENT_EXISTS: ExitCode.failure,
  AGENT_EXITED: ExitCode.failure,
  AGENT_NOT_FOUND: ExitCode.failure,
  AGENT_RUNNING: ExitCode.failure,
  ARCHIVE_NOT_FOUND: ExitCode.failure,
  BASE_NOT_FOUND: ExitCode.usage,
  BRANCH_EXISTS: ExitCode.usage,
  CONFIRMATION_REQUIRED: ExitCode.usage,
  DIR_NOT_FOUND: ExitCode.usage,
  EDITOR_FAILED: ExitCode.failure,
  GIT_FAILED: ExitCode.failure,
  GRANT_NOT_FOUND: ExitCode.failure,
  HOST_EXISTS: ExitCode.failure,
  HOSTS_CORRUPT: ExitCode.failure,
  HOST_NOT_FOUND: ExitCode.failure,
  HOST_UNREACHABLE: ExitCode.failure,
  INVALID_ARGUMENT: ExitCode.usage,
  INVALID_NAME: ExitCode.usage,
  KILL_INCOMPLETE: ExitCode.failure,
  NO_WORKTREE: ExitCode.usage,
  NOT_A_REPOSITORY: ExitCode.usage,
  NOTE_CONFLICT: ExitCode.failure,
  NOTES_CORRUPT: ExitCode.failure,
  NOTES_LOCKED: ExitCode.failure,
  NOTE_TOO_LARGE: ExitCode.usage,
  PORT_IN_USE: ExitCode.failure,
  RECORDING_NOT_FOUND: ExitCode.failure,
  SETTINGS_CORRUPT: ExitCode.failure,
  STORAGE_FAILED: ExitCode.failure,
  SSH_MISSING: ExitCode.tmuxMissing,
  STORE_LOCKED: ExitCode.failure,
  TIMEOUT: ExitCode.failure,
  TLS_REQUIRED: ExitCode.usage,
  TMUX_FAILED: ExitCode.failure,
  TMUX_MISSING: ExitCode.tmuxMissing,
  TMUX_TOO_OLD: ExitCode.tmuxMissing,
  WORKTREE_IN_USE: ExitCode.failure,
  WORKTREE_NOT_FOUND: ExitCode.failure,
  WRONG_PASSPHRASE: ExitCode.failure,
  UNKNOWN_COMMAND: ExitCode.usage,
}

/** The one error type library code throws; commands and the HTTP API render it. */
export class MaestroError extends Error {
  readonly code: ErrorCode
  readonly exit: number
  /** Extra data a caller may need to recover, such as the current note on a conflict. */
  readonly details?: Record<string, unknown>

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message)
    this.name = 'MaestroError'
    this.code = code
    this.exit = exitFor[code]
    this.details = details
  }
}

export const agentNotFound = (name: string) =>
  new MaestroError('AGENT_NOT_FOUND', `agent "${name}" not found (maestro ls lists agents)`, {name})

/** What the file system says when a write cannot happen: a full disk, no permission, a file where a folder should be. */
const STORAGE_ERRNOS = new Set(['EACCES', 'EDQUOT', 'EEXIST', 'EFBIG', 'EIO', 'EISDIR', 'ELOOP', 'EMFILE', 'ENAMETOOLONG', 'ENFILE', 'ENOENT', 'ENOSPC', 'ENOTDIR', 'EPERM', 'EROFS'])

/**
 * A file-system error as STORAGE_FAILED, keeping the errno and path in the message and
 * details; anything else is returned unchanged.
 */
export function storageFailure(error: unknown): unknown {
  const system = error as {code?: unknown; syscall?: unknown; path?: unknown; message?: unknown}
  if (!(error instanceof Error) || typeof system.code !== 'string' || typeof system.syscall !== 'string' || !STORAGE_ERRNOS.has(system.code)) {
    return error
  }
  return new MaestroError('STORAGE_FAILED', `could not use the disk: ${error.message}`, {
    errno: system.code,
    syscall: system.syscall,
    path: typeof system.path === 'string' ? system.path : null,
  })
}
/** Several agents asked for at once were missing, so none of them was touched. */
export const agentsNotFound = (names: string[]) =>
  new MaestroError(
    'AGENT_NOT_FOUND',
    `agent${names.length > 1 ? 's' : ''} ${names.map((name) => `"${name}"`).join(', ')} not found; nothing was killed (maestro ls lists agents)`,
    {names},
  )
