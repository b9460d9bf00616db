import {readFileSync} from 'node:fs'
import {type Server as HttpServer, createServer} from 'node:http'
import {createServer as createHttpsServer} from 'node:https'
import type {AddressInfo, Socket} from 'node:net'

import type {Context, Dirs} from '../context.js'
import {MaestroError} from '../shared/errors.js'
import type {Tmux} from '../tmux/client.js'
import {configuredNotifier} from '../notify.js'
import {StorageFailures} from '../store/failures.js'
import {FleetWatcher} from '../fleet.js'
import {unlockNotes} from '../store/notes.js'
import {forgetAddress, recordAddress} from './address.js'
import {type AuditLimits, AuditLog, auditPath} from './audit.js'
import {Credentials, loadToken} from './auth.js'
import {DEFAULT_MAX_CLIENTS, DEFAULT_PORT} from './defaults.js'
import {Gate} from './gate.js'
import {GrantBook} from './grants.js'
import {HostPolicy, isLoopback, isWildcard, urlHost} from './hosts.js'
import {handleRequest} from './http.js'
import {DEFAULT_AUTH_LIMIT, FailureLimiter, type RateLimit} from './rate-limit.js'
import {refuseRaw} from './respond.js'
import {DEFAULT_SESSION_DAYS, loadSessionSecret} from './session.js'
import {Sockets} from './sockets.js'
import {loadWebFiles} from './static.js'
import {HSTS, TLS_OPTIONS, sendsHsts, type TlsMaterial, loadTls, selfSignedTls} from './tls.js'

export interface ServeOptions {
  tmux: Tmux
  /** The state directory and the environment (MAESTRO_TOKEN; what terminals inherit) come from here. */
  context: Context
  host?: string
  port?: number
  readonly?: boolean
  tlsCert?: string
  tlsKey?: string
  tlsSelfSigned?: boolean
  allowHosts?: string[]
  maxClients?: number
  /** Serve plain HTTP on a non-loopback address anyway. */
  insecure?: boolean
  tokenFile?: string
  /** Replace the session secret first, signing every browser out. */
  rotateSessionSecret?: boolean
  /** How long a session cookie lasts (default: the sessionDays setting, else 30). */
  sessionDays?: number
  authLimit?: RateLimit
  /** Rotation and coalescing of the audit log (default 10 MiB × 5 files, repeats counted per minute). */
  auditLimits?: Partial<AuditLimits>
  heartbeatMs?: number
}

export interface RunningServer {
  /** The address to open, carrying the token: show it to the user only. */
  url: string
  host: string
  port: number
  tls: boolean
  readonly: boolean
  /** SHA-256 fingerprint of the certificate, under TLS. */
  fingerprint?: string
  /** Things the user must hear about, such as plain HTTP on the network. */
  warnings: string[]
  auditLog: string
  /** The open terminal viewers, for diagnostics and tests. */
  viewers(): {agent: string; bufferedAmount: number; unacknowledged: number; paused: boolean}[]
  /** The open event streams, with what each has queued. */
  eventStreams(): {bufferedAmount: number}[]
  /** Closes every viewer (their tmux clients exit), then the listener. */
  close(): Promise<void>
}

export {DEFAULT_MAX_CLIENTS, DEFAULT_PORT}

const HEARTBEAT_MS = 30_000

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {version: string}).version

/** Starts `maestro serve`: checks the options, binds, and resolves once it is listening. */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = urlHost(options.host ?? 'localhost')
  const port = options.port ?? DEFAULT_PORT
  const allowHosts = (options.allowHosts ?? []).map(urlHost)
  const readonly = options.readonly ?? false
  const warnings: string[] = []

  if ((options.tlsCert === undefined) !== (options.tlsKey === undefined)) {
    throw new MaestroError('INVALID_ARGUMENT', '--tls-cert and --tls-key go together (or use --tls-self-signed)')
  }
  if (options.tlsCert && options.tlsSelfSigned) {
    throw new MaestroError('INVALID_ARGUMENT', 'use either --tls-cert/--tls-key or --tls-self-signed, not both')
  }
  const wantsTls = Boolean(options.tlsCert || options.tlsSelfSigned)
  if (!isLoopback(host) && !wantsTls) {
    if (!options.insecure) {
      throw new MaestroError(
        'TLS_REQUIRED',
        `--host ${host} is reachable from the network, so it needs TLS: add --tls-self-signed or --tls-cert/--tls-key (or --insecure to send the token in clear)`,
      )
    }
    warnings.push(`serving plain HTTP on ${host}: anyone on the network path can read the token and every keystroke`)
  }

  // The key is derived once, here: a wrong passphrase stops the start; none leaves notes locked.
  if ((await unlockNotes(options.context)) === 'locked') {
    warnings.push('notes are encrypted and no passphrase was given (MAESTRO_PASSPHRASE): they show as locked and cannot be read or saved')
  }
  const token = await loadToken({tokenFile: options.tokenFile, env: options.context.env})
  let tls: TlsMaterial | undefined
  if (options.tlsCert && options.tlsKey) tls = await loadTls(options.tlsCert, options.tlsKey)
  else if (options.tlsSelfSigned) {
    const names = ['localhost', '127.0.0.1', '::1', ...allowHosts, ...(isWildcard(host) ? [] : [host])]
    tls = await selfSignedTls(options.context.stateDir, [...new Set(names.map((name) => name.replace(/^\[(.*)\]$/, '$1')))])
  }
  // A full or unwritable config or state directory is counted and shown, never fatal.
  const storage = new StorageFailures((line) => process.stderr.write(`${line}\n`))
  const secret = await loadSessionSecret(options.context.stateDir, {rotate: options.rotateSessionSecret, failures: storage})
  const sessionDays = options.sessionDays ?? (await sessionDaysSetting(options.context))
  const files = await loadWebFiles()
  const audit = await AuditLog.open(auditPath(options.context.stateDir), options.auditLimits, storage)

  const server: HttpServer = tls ? createHttpsServer({cert: tls.cert, key: tls.key, ...TLS_OPTIONS}) : createServer()
  // Malformed requests that never reach a handler get a 400 and a closed socket, never a crash.
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    if (error.code === 'HPE_HEADER_OVERFLOW') refuseRaw(socket, 431, 'BAD_REQUEST', 'request headers too large')
    else refuseRaw(socket, 400, 'BAD_REQUEST', 'malformed request')
  })
  const boundPort = await listen(server, host, port).catch((error) => {
    audit.close()
    throw error
  })

  const scheme = tls ? 'https' : 'http'
  const grants = await GrantBook.open(options.context)
  const credentials = new Credentials(token, {port: boundPort, secure: Boolean(tls), secret, sessionDays, grants})
  const limiter = new FailureLimiter(options.authLimit ?? DEFAULT_AUTH_LIMIT)
  const gate = new Gate(new HostPolicy(host, allowHosts, boundPort, scheme), credentials, limiter, audit)
  const watcher = await FleetWatcher.open(options.tmux, options.context)
  // Told even with no page open: the notifier keeps the watcher reading.
  const notify = await configuredNotifier(options.context)
  if (notify) watcher.subscribe(notify)
  const sockets = new Sockets({
    tmux: options.tmux,
    context: options.context,
    gate,
    audit,
    watcher,
    readonly,
    maxClients: options.maxClients ?? DEFAULT_MAX_CLIENTS,
    heartbeatMs: options.heartbeatMs ?? HEARTBEAT_MS,
    grants,
    storage,
  })
  const api = {
    ...options.context,
    tmux: options.tmux,
    readonly,
    version: VERSION,
    audit,
    storage,
    changed: () => void watcher.refresh(),
    renamed: (from: string, to: string) => sockets.renamed(from, to),
    sharesChanged: () => grants.reload(),
  }
  // Past listen, a server error (out of file descriptors, say) is logged rather than fatal.
  server.on('error', (error) => audit.write('error', {message: error.message}))
  server.on('request', (request, res) => {
    if (tls && sendsHsts(request.headers.host)) res.setHeader('Strict-Transport-Security', HSTS)
    handleRequest({gate, files, api}, request, res)
  })
  server.on('upgrade', (request, socket, head) => sockets.upgrade(request, socket, head))
  audit.write('start', {host, port: boundPort, tls: Boolean(tls), readonly, pid: process.pid})
  // Without it `maestro share` prints a link to the default address: worth a count, not a stop.
  await recordAddress(options.context.stateDir, `${scheme}://${isWildcard(host) ? (allowHosts[0] ?? 'localhost') : host}:${boundPort}`).catch((error) => storage.record('server address', error))

  // On a wildcard address the first --allow-host name is how the user reaches the machine.
  const shownHost = isWildcard(host) ? (allowHosts[0] ?? 'localhost') : host
  let closing: Promise<void> | undefined
  return {
    url: `${scheme}://${shownHost}:${boundPort}/?token=${encodeURIComponent(token)}`,
    host,
    port: boundPort,
    tls: Boolean(tls),
    readonly,
    fingerprint: tls?.fingerprint,
    warnings,
    auditLog: auditPath(options.context.stateDir),
    eventStreams: () => sockets.eventStreams,
    viewers: () => [...sockets.viewers].map((viewer) => ({agent: viewer.id, bufferedAmount: viewer.bufferedAmount, unacknowledged: viewer.unacknowledged, paused: viewer.paused})),
    close: () =>
      (closing ??= (async () => {
        await sockets.close()
        await watcher.stop()
        grants.stop()
        await new Promise<void>((resolve) => {
          server.close(() => resolve())
          server.closeAllConnections()
        })
        await forgetAddress(options.context.stateDir)
        audit.write('stop', {host, port: boundPort})
        audit.close()
      })()),
  }
}

async function sessionDaysSetting(dirs: Dirs): Promise<number> {
  const {readSettings} = await import('../store/settings.js')
  return (await readSettings(dirs)).sessionDays ?? DEFAULT_SESSION_DAYS
}

function listen(server: HttpServer, host: string, port: number): Promise<number> {
  // Node resolves "localhost" to one address only; 127.0.0.1 is the one every client tries.
  const address = host === 'localhost' ? '127.0.0.1' : host.replace(/^\[(.*)\]$/, '$1')
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE') {
        reject(new MaestroError('PORT_IN_USE', `port ${port} on ${host} is in use (stop the other server, or pick another with --port; --port 0 takes a free one)`, {port}))
      } else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND' || error.code === 'EACCES') {
        reject(new MaestroError('INVALID_ARGUMENT', `cannot listen on ${host}:${port} (${error.code}); pick another --host or --port`, {host, port}))
      } else reject(error)
    })
    server.listen(port, address, () => resolve((server.address() as AddressInfo).port))
  })
}
