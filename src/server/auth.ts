import {createHash, createHmac, randomBytes, timingSafeEqual} from 'node:crypto'
import {readFile, stat} from 'node:fs/promises'

import {MaestroError} from '../shared/errors.js'
import type {Grant} from '../store/grants.js'
import type {GrantBook} from './grants.js'

/** Below this a token could be guessed; a generated one has 43 characters (256 bits). */
export const MIN_TOKEN_LENGTH = 16

/**
 * The server's secret: from --token-file, else MAESTRO_TOKEN, else 256 random bits. It is never
 * taken from the command line, where `ps` would show it to every user of the machine.
 * MAESTRO_TOKEN is removed from `env` once read, so that no child inherits it: not the tmux
 * clients, nor a tmux server started from here, nor the agents that server runs.
 */
export async function loadToken(options: {tokenFile?: string; env: NodeJS.ProcessEnv}): Promise<string> {
  const {env} = options
  // Gone from the environment whichever source wins, so that no child ever inherits it.
  const fromEnv = env.MAESTRO_TOKEN
  delete env.MAESTRO_TOKEN
  let token: string
  let source: string
  if (options.tokenFile) {
    source = `token file ${options.tokenFile}`
    await assertPrivateFile(options.tokenFile, 'token file')
    token = await readFile(options.tokenFile, 'utf8').then(
      (text) => text.trim(),
      (error: NodeJS.ErrnoException) => {
        throw new MaestroError('INVALID_ARGUMENT', `cannot read ${source}: ${error.code ?? error.message}`)
      },
    )
  } else if (fromEnv) {
    source = 'MAESTRO_TOKEN'
    token = fromEnv.trim()
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

/**
 * A secret the user keeps in a file of their own (a token file, a TLS key) is refused while other
 * users of the machine may read it: maestro does not change the modes of files it does not own.
 */
export async function assertPrivateFile(path: string, what: string): Promise<void> {
  const info = await stat(path).catch((error: NodeJS.ErrnoException) => {
    throw new MaestroError('INVALID_ARGUMENT', `cannot read ${what} ${path}: ${error.code ?? error.message}`)
  })
  const mode = info.mode & 0o777
  if ((mode & 0o077) !== 0) {
    throw new MaestroError('INVALID_ARGUMENT', `${what} ${path} can be read by other users of this machine (mode ${mode.toString(8)}): chmod 600 ${path}`, {path})
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest()
}

/** Both sides are hashed first, so the time taken says nothing about where or whether lengths differ. */
export function secretEquals(candidate: string, secret: string): boolean {
  return timingSafeEqual(digest(candidate), digest(secret))
}

export type CredentialKind = 'cookie' | 'bearer' | 'token'

/** Who a request speaks for: the holder of the server's token, or of a share link's grant. */
export type Identity = {kind: 'admin'} | {kind: 'grant'; grant: Grant}

export interface CredentialOptions {
  port: number
  secure: boolean
  /** The session secret (see session.ts): cookies are signed with it, so they outlive a restart. */
  secret: Buffer
  /** How long a session cookie stays valid. */
  sessionDays: number
  grants: GrantBook
  now?: () => number
}

const ADMIN_SCOPE = 'a'

/**
 * What proves a client may come in: the token itself (URL once, or a Bearer header) or a session
 * cookie it was traded for. A cookie is `expiry.scope.mac`, signed with the session secret and not
 * derived from the token, so it reveals nothing about the token and stays valid across restarts
 * (a new token each time) until it expires or the secret is rotated.
 */
export class Credentials {
  readonly cookieName: string
  readonly #token: string
  readonly #secret: Buffer
  readonly #secure: boolean
  readonly #sessionMs: number
  readonly #now: () => number
  readonly #grants: GrantBook

  constructor(token: string, options: CredentialOptions) {
    this.#token = token
    this.#secret = options.secret
    // SameSite does not separate ports: the port in the name keeps two servers' cookies apart.
    this.cookieName = `maestro_session_${options.port}`
    this.#secure = options.secure
    this.#sessionMs = options.sessionDays * 86_400_000
    this.#now = options.now ?? Date.now
    this.#grants = options.grants
  }

  checkToken(candidate: string): Identity | undefined {
    if (secretEquals(candidate, this.#token)) return {kind: 'admin'}
    const grant = this.#grants.byToken(candidate)
    return grant && {kind: 'grant', grant}
  }

  /**
   * The identity of the first valid session cookie among all those of this server's name: a
   * page on another localhost port can plant one with a longer path, which the browser sends first.
   */
  checkCookie(header: string | undefined): Identity | undefined {
    for (const value of cookieValues(header, this.cookieName)) {
      const identity = this.#verify(value)
      if (identity) return identity
    }
    return undefined
  }

  /** A Set-Cookie value that signs the browser in as `identity` for sessionDays. */
  setCookie(identity: Identity): string {
    // A grant's session ends with the grant.
    const until = identity.kind === 'grant' ? Math.min(this.#now() + this.#sessionMs, Date.parse(identity.grant.expiresAt)) : this.#now() + this.#sessionMs
    const expires = Math.floor(until / 1000)
    const payload = `${expires.toString(36)}.${identity.kind === 'admin' ? ADMIN_SCOPE : `g-${identity.grant.id}`}`
    const maxAge = expires - Math.floor(this.#now() / 1000)
    return `${this.cookieName}=${payload}.${this.#mac(payload)}; Path=/; Max-Age=${maxAge}; HttpOnly; SameSite=Strict${this.#secure ? '; Secure' : ''}`
  }

  #verify(value: string): Identity | undefined {
    const parts = value.split('.')
    if (parts.length !== 3) return undefined
    const [expires, scope, mac] = parts
    if (!secretEquals(mac, this.#mac(`${expires}.${scope}`))) return undefined
    if (Number.parseInt(expires, 36) * 1000 <= this.#now()) return undefined
    if (scope === ADMIN_SCOPE) return {kind: 'admin'}
    const grant = scope.startsWith('g-') ? this.#grants.current(scope.slice(2)) : undefined
    return grant && {kind: 'grant', grant}
  }

  #mac(payload: string): string {
    return createHmac('sha256', this.#secret).update(payload).digest('base64url')
  }
}

function cookieValues(header: string | undefined, name: string): string[] {
  const values: string[] = []
  for (const part of header?.split(';') ?? []) {
    const index = part.indexOf('=')
    if (index > 0 && part.slice(0, index).trim() === name) values.push(part.slice(index + 1).trim())
  }
  return values
}

/** The token of an `Authorization: Bearer <token>` header, if that is what the header holds. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header)
  return match?.[1]
}
