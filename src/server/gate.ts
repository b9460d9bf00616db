import type {IncomingMessage} from 'node:http'

import type {RefusalCode} from '../shared/protocol.js'
import type {AuditLog} from './audit.js'
import {type CredentialKind, type Credentials, type Identity, bearerToken} from './auth.js'
import type {HostPolicy} from './hosts.js'
import type {FailureLimiter} from './rate-limit.js'

export type Admission =
  | {
      ok: true
      url: URL
      address: string
      via: CredentialKind
      identity: Identity
      /** A page load that carried ?token=: redirect to the clean URL, with this cookie when the token was good. */
      signIn?: {setCookie?: string}
    }
  | {ok: false; status: number; code: RefusalCode; message: string; headers: Record<string, string | number>}

export interface AdmitOptions {
  /** Upgrades and requests that may change state must come from the server's own origin. */
  checkOrigin: boolean
  /** Only a page load may carry the token in its URL, to be traded for the cookie. */
  acceptQueryToken: boolean
}

/**
 * Whether the browser marked the request as sent by another site (another port of the same host
 * counts), and not as a top-level navigation the user made, such as clicking a link. A page can
 * make the browser send any number of such requests (images, frames, fetches); none of them may
 * try a token or feed the rate limit. Scripts and typed URLs carry no mark, or `none`.
 */
function sentByAnotherSite(request: IncomingMessage): {foreign: boolean; userNavigation: boolean} {
  const site = request.headers['sec-fetch-site']
  const foreign = site === 'cross-site' || site === 'same-site'
  const userNavigation =
    request.headers['sec-fetch-mode'] === 'navigate' && request.headers['sec-fetch-dest'] === 'document' && request.headers['sec-fetch-user'] === '?1'
  return {foreign, userNavigation}
}

/**
 * The checks every request and every upgrade passes, always in this order: a well-formed URL,
 * an allowed Host, the exact Origin (when asked), then credentials, with failed token attempts
 * limited per client address and in total. Every refusal is logged with its reason.
 */
export class Gate {
  constructor(
    private readonly hosts: HostPolicy,
    private readonly credentials: Credentials,
    private readonly limiter: FailureLimiter,
    private readonly audit: AuditLog,
  ) {}

  admit(request: IncomingMessage, options: AdmitOptions): Admission {
    const address = request.socket.remoteAddress ?? 'unknown'
    const path = request.url ?? ''
    let url: URL
    try {
      if (!path.startsWith('/') || path.startsWith('//')) throw new Error('not a path')
      url = new URL(path, 'http://placeholder')
    } catch {
      return this.#refuse(address, 400, 'BAD_REQUEST', 'malformed request target', {reason: 'malformed url'})
    }
    const where = {path: url.pathname, method: request.method}
    const hostHeader = request.headers.host
    const origin = this.hosts.originFor(hostHeader)
    if (!origin) {
      return this.#refuse(address, 403, 'FORBIDDEN_HOST', 'this Host is not served here (see maestro serve --allow-host)', {
        reason: 'host',
        value: hostHeader ?? null,
        ...where,
      })
    }
    if (options.checkOrigin && request.headers.origin !== origin) {
      return this.#refuse(address, 403, 'FORBIDDEN_ORIGIN', 'cross-origin requests are refused', {
        reason: 'origin',
        value: request.headers.origin ?? null,
        ...where,
      })
    }
    const session = this.credentials.checkCookie(request.headers.cookie)
    const queryToken = options.acceptQueryToken ? url.searchParams.get('token') ?? undefined : undefined
    if (session && queryToken === undefined) return {ok: true, url, address, via: 'cookie', identity: session}

    const bearer = bearerToken(request.headers.authorization)
    const candidate = queryToken ?? bearer
    if (candidate === undefined) {
      return this.#refuse(address, 401, 'UNAUTHORIZED', 'open the URL that maestro serve printed, or send Authorization: Bearer <token>', {
        reason: 'no credentials',
        ...where,
      })
    }
    const via: CredentialKind = queryToken === undefined ? 'bearer' : 'token'
    // A browser signed in already just loses the token from its address bar, whatever it is.
    const keep = session ? {ok: true as const, url, address, via, identity: session, signIn: {}} : undefined
    const {foreign, userNavigation} = sentByAnotherSite(request)
    if (foreign && !userNavigation) {
      return keep ?? this.#refuse(address, 403, 'CROSS_SITE', 'a token sent by another site is not checked: open the URL that maestro serve printed', {reason: 'cross-site', ...where})
    }
    // A limited client gets no answer about its token at all, right or wrong. A link the user
    // clicked on another site cannot be repeated by that site, so it is never limited.
    const retryAfter = foreign ? 0 : this.limiter.retryAfter(address)
    if (retryAfter > 0) {
      if (keep) return keep
      const refusal = this.#refuse(address, 429, 'RATE_LIMITED', `too many failed attempts; retry in ${retryAfter} s`, {
        reason: 'rate limited',
        ...where,
      })
      return {...refusal, headers: {'Retry-After': retryAfter}}
    }
    const identity = this.credentials.checkToken(candidate)
    if (!identity) {
      if (!foreign) this.limiter.fail(address)
      this.audit.write('auth_failed', {address, via, ...where})
      return keep ?? {ok: false, status: 401, code: 'UNAUTHORIZED', message: 'wrong token', headers: {'WWW-Authenticate': 'Bearer'}}
    }
    this.audit.write('auth_ok', {address, via, grant: identity.kind === 'grant' ? identity.grant.id : undefined, ...where})
    if (via === 'bearer') return {ok: true, url, address, via, identity}
    return {ok: true, url, address, via, identity, signIn: {setCookie: this.credentials.setCookie(identity)}}
  }

  #refuse(
    address: string,
    status: number,
    code: RefusalCode,
    message: string,
    fields: Record<string, string | null | undefined>,
  ): Extract<Admission, {ok: false}> {
    this.audit.write('refused', {address, status, ...fields})
    return {ok: false, status, code, message, headers: status === 401 ? {'WWW-Authenticate': 'Bearer'} : {}}
  }
}
