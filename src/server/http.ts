import type {IncomingMessage, ServerResponse} from 'node:http'

import {type ApiContext, handleApi} from './api.js'
import type {Gate} from './gate.js'
import {send, sendError} from './respond.js'
import type {WebFile} from './static.js'

/**
 * `reload` is for a navigation that came from another site: the browser withholds SameSite=Strict
 * cookies from it (and from the redirect after a sign-in), so the page reloads itself once, from
 * this origin, which sends them.
 */
const unauthorizedPage = (reload: boolean) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>maestro: sign in</title>${reload ? '<meta http-equiv="refresh" content="0">' : ''}
<style>body{font:16px system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em}</style></head>
<body><h1>maestro</h1><p>Open the URL that <code>maestro serve</code> printed when it started
(or a share link you were given): it carries a token that signs this browser in.</p></body></html>
`

export interface HttpContext {
  gate: Gate
  files: ReadonlyMap<string, WebFile>
  api: ApiContext
}

/**
 * A path that a browser can only read as a path of this origin: `//evil.com` (which the URL
 * parser makes of `/.//evil.com`) would be another host, so runs of slashes become one.
 */
export function samePath(pathname: string): string {
  return pathname.replace(/[/\\]+/g, '/')
}

/** Every HTTP request: through the gate, then the API or the page, which lives in memory. */
export function handleRequest(context: HttpContext, request: IncomingMessage, res: ServerResponse): void {
  const method = request.method ?? ''
  const isApi = request.url === '/api' || request.url?.startsWith('/api/') === true
  const read = method === 'GET' || method === 'HEAD'
  const admission = context.gate.admit(request, {checkOrigin: !read, acceptQueryToken: read && !isApi})
  if (!admission.ok) {
    if (admission.status === 401 && read && !isApi) {
      const site = request.headers['sec-fetch-site']
      const reload = (site === 'cross-site' || site === 'same-site') && request.headers['sec-fetch-mode'] === 'navigate'
      send(res, 401, unauthorizedPage(reload), {'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store', ...admission.headers})
    } else {
      sendError(res, admission.status, admission.code, admission.message, undefined, admission.headers)
    }
    return
  }
  const {url, address} = admission
  if (admission.signIn) {
    // Trade the token for the cookie at once, and take it out of the address bar and history.
    url.searchParams.delete('token')
    const cookie: Record<string, string> = admission.signIn.setCookie ? {'Set-Cookie': admission.signIn.setCookie} : {}
    send(res, 303, '', {...cookie, Location: `${samePath(url.pathname)}${url.search}`, 'Cache-Control': 'no-store'})
    return
  }
  if (isApi) {
    void handleApi(context.api, request, res, url, address, admission.identity)
    return
  }
  if (!read) return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${method} is not allowed here`, undefined, {Allow: 'GET, HEAD'})
  const file = context.files.get(url.pathname)
  if (!file) return sendError(res, 404, 'NOT_FOUND', `${url.pathname} is not part of the page`)
  send(res, 200, file.body, {'Content-Type': file.type, 'Cache-Control': 'no-cache'})
}
