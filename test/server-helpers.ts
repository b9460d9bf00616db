import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {request as httpRequest, type IncomingHttpHeaders} from 'node:http'
import {request as httpsRequest} from 'node:https'
import {connect} from 'node:net'

import WebSocket from 'ws'

import {createAgent} from '../src/agents.js'
import {type RunningServer, type ServeOptions, startServer} from '../src/server/index.js'
import {Tmux} from '../src/tmux/client.js'
import {BIN, sandbox, waitFor} from './helpers.js'

export type Box = ReturnType<typeof sandbox>

export interface TestServer {
  server: RunningServer
  base: string
  origin: string
  token: string
  port: number
}

/** A real server on port 0 in this process, on the sandbox's tmux server. */
export async function serve(box: Box, options: Partial<ServeOptions> = {}): Promise<TestServer> {
  const server = await startServer({tmux: new Tmux(box.socket, box.env), context: box.context, port: 0, ...options})
  return describe(server.url, server)
}

function describe(url: string, server: RunningServer): TestServer {
  const parsed = new URL(url)
  return {server, base: parsed.origin, origin: parsed.origin, token: parsed.searchParams.get('token')!, port: Number(parsed.port)}
}

export interface Reply {
  status: number
  headers: IncomingHttpHeaders
  body: string
}

/** An HTTP request with exactly the given headers (fetch would not let a test set Host). */
export function call(
  url: string,
  options: {method?: string; headers?: Record<string, string>; body?: string; ca?: string; localAddress?: string} = {},
): Promise<Reply> {
  const target = new URL(url)
  const send = target.protocol === 'https:' ? httpsRequest : httpRequest
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {method: options.method ?? 'GET', headers: options.headers, ca: options.ca, localAddress: options.localAddress, agent: false},
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('end', () => resolve({status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8')}))
      },
    )
    req.on('error', reject)
    req.end(options.body)
  })
}

/** Sends bytes exactly as given (no client library tidies the path) and returns the whole reply. */
export function rawRequest(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes))
    let reply = ''
    socket.on('data', (chunk) => (reply += chunk))
    socket.on('end', () => resolve(reply))
    socket.on('error', reject)
  })
}

/** JSON API call authenticated with the Bearer token and the right Origin. */
export async function api(t: TestServer, method: string, path: string, body?: unknown): Promise<{status: number; json: any; headers: IncomingHttpHeaders}> {
  const headers: Record<string, string> = {authorization: `Bearer ${t.token}`, origin: t.origin}
  if (body !== undefined) headers['content-type'] = 'application/json'
  const reply = await call(`${t.base}${path}`, {method, headers, body: body === undefined ? undefined : JSON.stringify(body)})
  return {status: reply.status, json: reply.body ? JSON.parse(reply.body) : undefined, headers: reply.headers}
}

/** The session cookie `name=value` that trading the URL token gives. */
export async function login(t: TestServer): Promise<string> {
  const reply = await call(`${t.base}/?token=${encodeURIComponent(t.token)}`)
  if (reply.status !== 303) throw new Error(`login failed with ${reply.status}`)
  return String(reply.headers['set-cookie']?.[0]).split(';')[0]
}

/**
 * Records everything a WebSocket receives. Like the page, it acknowledges terminal output (as
 * soon as it arrives) unless told not to, which makes it a browser that has stopped drawing.
 */
export class Viewer {
  readonly output: Buffer[] = []
  readonly notices: any[] = []
  closed?: {code: number; reason: string}
  readonly closedPromise: Promise<{code: number; reason: string}>

  constructor(
    readonly ws: WebSocket,
    readonly acknowledge = true,
  ) {
    ws.on('message', (data: Buffer, isBinary) => {
      if (isBinary) {
        this.output.push(data)
        if (this.acknowledge) this.send({type: 'ack', bytes: data.length})
      } else this.notices.push(JSON.parse(data.toString('utf8')))
    })
    this.closedPromise = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.closed = {code, reason: reason.toString()}
        resolve(this.closed)
      }),
    )
  }

  get text(): string {
    return Buffer.concat(this.output).toString('utf8')
  }

  get bytes(): number {
    return this.output.reduce((sum, chunk) => sum + chunk.length, 0)
  }

  send(message: unknown): void {
    this.ws.send(typeof message === 'string' ? message : JSON.stringify(message))
  }

  async waitForText(text: string, timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.text.includes(text), timeoutMs, `"${text}" on the viewer`)
  }

  close(): Promise<{code: number; reason: string}> {
    this.ws.close()
    return this.closedPromise
  }
}

export interface OpenOptions {
  headers?: Record<string, string>
  origin?: string | null
  ca?: string
  /** false: never acknowledge output (see Viewer). */
  acknowledge?: boolean
}

/**
 * Opens a WebSocket with the Bearer token and the server's origin unless told otherwise;
 * resolves with the viewer once open, rejects with the HTTP status of a refused upgrade.
 */
export function openSocket(t: TestServer, path: string, options: OpenOptions = {}): Promise<Viewer> {
  const headers = {authorization: `Bearer ${t.token}`, ...options.headers}
  const origin = options.origin === undefined ? t.origin : options.origin
  const ws = new WebSocket(`${t.base.replace(/^http/, 'ws')}${path}`, {headers, ...(origin === null ? {} : {origin}), ca: options.ca})
  const viewer = new Viewer(ws, options.acknowledge)
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(viewer))
    ws.once('unexpected-response', (_req, res) => {
      reject(Object.assign(new Error(`upgrade refused with ${res.statusCode}`), {status: res.statusCode, headers: res.headers}))
      res.resume()
      ws.terminate()
    })
    ws.once('error', reject)
  })
}

export function terminalPath(name: string, cols = 80, rows = 24): string {
  return `/api/agents/${name}/terminal?cols=${cols}&rows=${rows}`
}

/** The status a refused upgrade got. */
export async function upgradeStatus(t: TestServer, path: string, options: OpenOptions = {}): Promise<number> {
  try {
    const viewer = await openSocket(t, path, options)
    await viewer.close()
    return 101
  } catch (error) {
    return (error as {status?: number}).status ?? -1
  }
}

/** `tmux attach` clients of this sandbox's server still running, as `ps` sees them: "pid argv". */
export function attachProcesses(box: Box): string[] {
  try {
    return execFileSync('pgrep', ['-af', `tmux -L ${box.socket} attach-session`], {encoding: 'utf8'}).trim().split('\n').filter(Boolean)
  } catch {
    return []
  }
}

/** An agent started the way maestro starts them (its pane stays when its program ends). */
export async function newAgent(box: Box, name: string, command: string): Promise<void> {
  await createAgent(new Tmux(box.socket, box.env), box.context, {name, command, dir: box.home})
}

/** `maestro serve` as a child process; resolves once it printed its URL. */
export async function serveChild(box: Box, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<{child: ChildProcess; line: string; stderr: () => string; t: TestServer}> {
  const port = args.includes('--port') ? [] : ['--port', '0']
  const child = spawn(process.execPath, [BIN, 'serve', ...port, ...args], {env: {...box.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']})
  let stdout = ''
  let stderr = ''
  child.stdout!.on('data', (chunk) => (stdout += chunk))
  child.stderr!.on('data', (chunk) => (stderr += chunk))
  const line = await waitFor(() => {
    if (child.exitCode !== null) throw new Error(`serve exited with ${child.exitCode}: ${stderr}`)
    return stdout.includes('\n') ? stdout.split('\n')[0] : undefined
  }, 20_000, 'maestro serve to print its URL')
  const url: string = line.startsWith('{') ? JSON.parse(line).url : /https?:\/\/\S+/.exec(line)![0]
  const parsed = new URL(url)
  const t: TestServer = {server: undefined as unknown as RunningServer, base: parsed.origin, origin: parsed.origin, token: parsed.searchParams.get('token')!, port: Number(parsed.port)}
  return {child, line, stderr: () => stderr, t}
}

export function exitOf(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}
