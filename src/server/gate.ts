import type {IncomingMessage} from 'node:http'

import type {RefusalCode} from '../shared/protocol.js'
import type {AuditLog} from './audit.js'
import {type CredentialKind, type Credentials, bearerToken} from './auth.js'
import type {HostPolicy} from './hosts.js'
import type {FailureLimiter} from './rate-limit.js'

export type Admission =
  | {ok: true; url: URL; address: string; via: CredentialKind}
  | {ok: false; status: number; code: RefusalCode; message: string; headers: Record<string, string | number>}

export interface AdmitOptions {
  /** Upgrades and requests that may change state must come from the server's own origin. */
  checkOrigin: boolean
  /** Only a page load may carry the token in its URL, to be traded for the cookie. */
  acceptQueryToken: boolean
}

/**
 * The checks every request and every upgrade passes, always in this order: a well-formed URL,
 * an allowed Host, the exact Origin (when asked), then credentials, with failed token attempts
 * limited per client address. Every refusal is logged with its reason.
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
    if (this.credentials.checkCookie(request.headers.cookie)) return {ok: true, url, address, via: 'cookie'}

    const bearer = bearerToken(request.headers.authorization)
    const queryToken = options.acceptQueryToken ? url.searchParams.get('token') ?? undefined : undefined
    const candidate = bearer ?? queryToken
    if (candidate === undefined) {
      return this.#refuse(address, 401, 'UNAUTHORIZED', 'open the URL that maestro serve printed, or send Authorization: Bearer <token>', {
        reason: 'no credentials',
        ...where,
      })
    }
    const via: CredentialKind = bearer === undefined ? 'token' : 'bearer'
    // A limited address gets no answer about its token at all, right or wrong.
    const retryAfter = this.limiter.retryAfter(address)
    if (retryAfter > 0) {
      const refusal = this.#refuse(address, 429, 'RATE_LIMITED', `too many failed attempts; retry in ${retryAfter} s`, {
        reason: 'rate limited',
        ...where,
      })
      return {...refusal, headers: {'Retry-After': retryAfter}}
    }
    if (!this.credentials.checkToken(candidate)) {
      this.limiter.fail(address)
      this.audit.write('auth_failed', {address, via, ...where})
      return {ok: false, status: 401, code: 'UNAUTHORIZED', message: 'wrong token', headers: {'WWW-Authenticate': 'Bearer'}}
    }
    this.audit.write('auth_ok', {address, via, ...where})
    return {ok: true, url, address, via}
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
