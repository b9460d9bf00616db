import {createHash, createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {readFile, stat} from 'node:fs/promises'

import {MaestroError} from '../shared/errors.js'

/** Below this a token could be guessed; a generated one has 43 characters (256 bits). */
export const MIN_TOKEN_LENGTH = 16

/**
 * The server's secret: from --token-file, else MAESTRO_TOKEN, else 256 random bits. It is never
 * taken from the command line, where `ps` would show it to every user of the machine.
 * MAESTRO_TOKEN is removed from `env` once read, so that no child inherits it: not the tmux
 * clients, nor a tmux server started from here, nor the agents that server runs.
 */
export async function loadToken(options: {tokenFile?: string; env?: NodeJS.ProcessEnv} = {}): Promise<string> {
  const env = options.env ?? process.env
  let token: string
  let source: string
  if (options.tokenFile) {
    source = `token file ${options.tokenFile}`
    token = await readFile(options.tokenFile, 'utf8').then(
      (text) => text.trim(),
      (error: NodeJS.ErrnoException) => {
        throw new MaestroError('INVALID_ARGUMENT', `cannot read ${source}: ${error.code ?? error.message}`)
      },
    )
  } else if (env.MAESTRO_TOKEN) {
    source = 'MAESTRO_TOKEN'
    token = env.MAESTRO_TOKEN.trim()
    delete env.MAESTRO_TOKEN
  } else {
    return randomBytes(32).toString('base64url')
  }
  if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
    throw new MaestroError(
      'INVALID_ARGUMENT',
      `the token in ${source} must be at least ${MIN_TOKEN_LENGTH} characters without spaces (or leave it out for a random one)`,
    )
  }
  return token
}

/** A warning when other users of the machine may read the token file, else undefined. */
export async function tokenFileWarning(path: string): Promise<string | undefined> {
  const {mode} = await stat(path)
  if ((mode & 0o077) === 0) return undefined
  return `${path} can be read by other users of this machine (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** Both sides are hashed first, so the time taken says nothing about where or whether lengths differ. */
export function secretEquals(candidate: string, secret: string): boolean {
  return timingSafeEqual(digest(candidate), digest(secret))
}

export type CredentialKind = 'cookie' | 'bearer' | 'token'

/**
 * What proves a client knows the token: the token itself (URL once, or a Bearer header) or the
 * session cookie it was traded for. The cookie's value is derived from the token, so it reveals
 * nothing about it and stays valid across restarts with the same MAESTRO_TOKEN.
 */
export class Credentials {
  readonly cookieName: string
  readonly #token: string
  readonly #session: string
  readonly #secure: boolean

  constructor(token: string, options: {port: number; secure: boolean}) {
    this.#token = token
    this.#session = createHmac('sha256', token).update('maestro session cookie').digest('base64url')
    // SameSite does not separate ports: the port in the name keeps two servers' cookies apart.
    this.cookieName = `maestro_session_${options.port}`
    this.#secure = options.secure
  }

  checkToken(candidate: string): boolean {
    return secretEquals(candidate, this.#token)
  }

  /** Whether the Cookie header carries this server's session cookie with the right value. */
  checkCookie(header: string | undefined): boolean {
    const value = cookieValue(header, this.cookieName)
    return value !== undefined && secretEquals(value, this.#session)
  }

  setCookie(): string {
    return `${this.cookieName}=${this.#session}; Path=/; HttpOnly; SameSite=Strict${this.#secure ? '; Secure' : ''}`
  }
}

function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined
  for (const part of header.split(';')) {
    const index = part.indexOf('=')
    if (index > 0 && part.slice(0, index).trim() === name) return part.slice(index + 1).trim()
  }
  return undefined
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header)
  return match?.[1]
}
