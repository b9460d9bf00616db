// The weaknesses of issue 9, each as an attacker finds it: a real browser for what a web page
// can do, raw sockets for raw paths and headers.
import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import type {Browser} from 'playwright-core'

import {DEFAULT_AUTH_LIMIT} from '../src/server/rate-limit.js'
import {sandbox, waitFor} from './helpers.js'
import {
  type TestServer,
  api,
  attachProcesses,
  call,
  exitOf,
  login,
  newAgent,
  openSocket,
  rawRequest,
  serve,
  serveChild,
  terminalPath,
} from './server-helpers.js'
import {agentRow, launchBrowser} from './web-helpers.js'

const box = sandbox('server-attacks')
let browser: Browser
let evil: Server
let evilPort: number
/** What the attacker's page serves next, set by each test. */
let evilPage = ''

before(async () => {
  await newAgent(box, 'victim', 'cat')
  browser = await launchBrowser()
  evil = createServer((_request, res) => {
    res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'})
    res.end(evilPage)
  })
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
  evilPort = (evil.address() as AddressInfo).port
})
after(async () => {
  await browser?.close()
  evil?.close()
  box.cleanup()
})

/** A fresh server per test, so that one test's failures do not limit the next. */
async function withServer(run: (t: TestServer) => Promise<void>, options: Parameters<typeof serve>[1] = {}): Promise<void> {
  const t = await serve(box, options)
  try {
    await run(t)
  } finally {
    await t.server.close()
  }
}

/** Loads the attacker's page at `origin` and waits until every element it loads has loaded or failed. */
async function visitEvil(html: string, origin: string): Promise<void> {
  evilPage = `<!doctype html><html><body>${html}<script>
    Promise.all([...document.images].map((img) => img.complete ? 0 : new Promise((done) => { img.onload = img.onerror = done })))
      .then(() => { document.title = 'done' })
  </script></body></html>`
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(`${origin}/`)
    await page.waitForFunction(() => document.title === 'done', undefined, {timeout: 20_000})
  } finally {
    await context.close()
  }
}

const bearer = (t: TestServer) => call(`${t.base}/api/agents`, {headers: {authorization: `Bearer ${t.token}`}})

test('1. a cookie tossed from another localhost port does not sign the page out', async () => {
  await withServer(async (t) => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      // Another local server (a dev server, an app preview) is the same site: it plants a cookie
      // of the same name with a longer path, which the browser sends first.
      evilPage = `<!doctype html><script>document.cookie = 'maestro_session_${t.port}=tossed; path=/api'; document.title = 'tossed'</script>`
      await page.goto(`http://localhost:${evilPort}/`)
      await page.waitForFunction(() => document.title === 'tossed')
      await page.goto(`http://localhost:${t.port}/?token=${t.token}`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      assert.equal(await page.evaluate(() => fetch('/api/agents').then((reply) => reply.status)), 200)
      // Planted after signing in, it changes nothing either.
      await page.goto(`http://localhost:${evilPort}/`)
      await page.goto(`http://localhost:${t.port}/`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      assert.equal(await page.evaluate(() => fetch('/api/agents').then((reply) => reply.status)), 200)
    } finally {
      await context.close()
    }
  })
})

test('3. a web page loading wrong tokens as images cannot lock out sign-in or Bearer scripts', async () => {
  await withServer(async (t) => {
    const images = (host: string) =>
      Array.from({length: 12}, (_, i) => `<img src="http://${host}:${t.port}/?token=wrong${i}">`).join('') +
      Array.from({length: 12}, (_, i) => `<img src="http://${host}:${t.port}/api/agents?x=${i}">`).join('')
    // Cross-site (another host name) and same-site (another port of the same host).
    await visitEvil(images('localhost'), `http://127.0.0.1:${evilPort}`)
    await visitEvil(images('127.0.0.1'), `http://127.0.0.1:${evilPort}`)
    assert.equal((await bearer(t)).status, 200)
    assert.equal((await call(`${t.base}/?token=${t.token}`)).status, 303)
    // Opening the printed URL in a browser still signs in.
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`http://localhost:${t.port}/?token=${t.token}`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
    } finally {
      await context.close()
    }
  })
})

test('3. a token sent by a page without a user navigation is refused unchecked; a clicked link signs in', async () => {
  await withServer(async (t) => {
    const crossSite = {'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image'}
    for (let i = 0; i < 30; i++) {
      assert.equal((await call(`${t.base}/?token=wrong${i}`, {headers: crossSite})).status, 403)
    }
    // Refused before the check: not even the right token is looked at.
    assert.equal((await call(`${t.base}/?token=${t.token}`, {headers: crossSite})).status, 403)
    assert.equal((await bearer(t)).status, 200)
    // A link the user clicks on another site (a share link in a chat) is a user navigation.
    evilPage = `<!doctype html><a id="go" href="http://localhost:${t.port}/?token=${t.token}">open</a>`
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`http://127.0.0.1:${evilPort}/`)
      await page.click('#go')
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      assert.equal(new URL(page.url()).search, '')
    } finally {
      await context.close()
    }
  }, {authLimit: {...DEFAULT_AUTH_LIMIT, max: 3}})
})

test('4. failed token checks are limited across all addresses: 600 from 60 loopback addresses', async () => {
  assert.deepEqual(DEFAULT_AUTH_LIMIT, {max: 10, maxTotal: 100, windowMs: 60_000})
  await withServer(async (t) => {
    const statuses: number[] = []
    for (let round = 0; round < 10; round++) {
      const replies = await Promise.all(
        Array.from({length: 60}, (_, i) =>
          call(`${t.base}/api/agents`, {headers: {authorization: `Bearer wrong-${round}-${i}-0123456789`}, localAddress: `127.0.0.${i + 2}`}),
        ),
      )
      statuses.push(...replies.map((reply) => reply.status))
    }
    assert.equal(statuses.filter((status) => status === 401).length, DEFAULT_AUTH_LIMIT.maxTotal)
    assert.equal(statuses.filter((status) => status === 429).length, 600 - DEFAULT_AUTH_LIMIT.maxTotal)
  })
})

test('5. opening ?token= when already signed in still takes the token out of the address bar', async () => {
  await withServer(async (t) => {
    const cookie = await login(t)
    for (const token of [t.token, 'wrong-token-0123456789']) {
      const reply = await call(`${t.base}/?token=${token}&keep=1`, {headers: {cookie}})
      assert.equal(reply.status, 303)
      assert.equal(reply.headers.location, '/?keep=1')
    }
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${t.base}/?token=${t.token}`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      await page.goto(`${t.base}/?token=${t.token}`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      assert.equal(page.url(), `${t.base}/`)
    } finally {
      await context.close()
    }
  })
})

test('6. the sign-in redirect never leaves the origin, whatever the raw path', async () => {
  await withServer(async (t) => {
    for (const path of ['/.//evil.com', '/./\\evil.com', '/..//evil.com', '/%2e//evil.com', '/a/..//evil.com', '/.///evil.com/x']) {
      const reply = await rawRequest(t.port, `GET ${path}?token=${t.token} HTTP/1.1\r\nHost: localhost:${t.port}\r\nConnection: close\r\n\r\n`)
      const location = /\r\nLocation: ([^\r]*)/i.exec(reply)?.[1]
      assert.ok(location, `${path}: ${reply.split('\r\n')[0]}`)
      assert.match(location, /^\/(?![/\\])/, `${path} redirected to ${location}`)
      assert.equal(new URL(location, t.base).origin, t.base)
    }
  })
})

test('9. TLS offers only forward-secret AEAD suites, sends HSTS except to the name localhost, and refuses or tightens loose key files', async () => {
  const {connect, getCiphers} = await import('node:tls')
  const {chmodSync, statSync} = await import('node:fs')
  await withServer(async (t) => {
    const cert = readCert()
    const handshake = (options: {ciphers?: string; maxVersion?: 'TLSv1.2' | 'TLSv1.3'; minVersion?: 'TLSv1' | 'TLSv1.1'}) =>
      new Promise<string | undefined>((resolve) => {
        const socket = connect({host: '127.0.0.1', port: t.port, servername: 'localhost', ca: cert, ...options}, () => {
          resolve(socket.getCipher().standardName)
          socket.destroy()
        })
        socket.on('error', () => resolve(undefined))
      })
    const accepted: string[] = []
    for (const cipher of getCiphers().filter((name) => !name.startsWith('tls_'))) {
      const name = await handshake({ciphers: cipher.toUpperCase(), maxVersion: 'TLSv1.2'})
      if (name) accepted.push(name)
    }
    assert.ok(accepted.length > 0)
    for (const name of accepted) assert.match(name, /^TLS_ECDHE_(ECDSA|RSA)_WITH_(AES_(128|256)_GCM_SHA(256|384)|CHACHA20_POLY1305_SHA256)$/)
    assert.equal(await handshake({maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA'}), undefined)
    assert.match((await handshake({})) ?? '', /^TLS_(AES|CHACHA20)/)
    assert.equal(await handshake({maxVersion: 'TLSv1.1' as 'TLSv1.2', minVersion: 'TLSv1'}), undefined)

    const viaName = await call(`https://127.0.0.1:${t.port}/`, {ca: cert, headers: {host: `devbox.test:${t.port}`}})
    assert.equal(viaName.headers['strict-transport-security'], 'max-age=31536000')
    // The issue asks for HSTS on every answer under TLS; the one exception is the name localhost.
    for (const host of ['127.0.0.1', '[::1]']) {
      const viaAddress = await call(`https://127.0.0.1:${t.port}/`, {ca: cert, headers: {host: `${host}:${t.port}`}})
      assert.equal(viaAddress.headers['strict-transport-security'], 'max-age=31536000', host)
    }
    const viaLoopback = await call(`https://127.0.0.1:${t.port}/`, {ca: cert, headers: {host: `LocalHost:${t.port}`}})
    assert.equal(viaLoopback.headers['strict-transport-security'], undefined)
  }, {tlsSelfSigned: true, allowHosts: ['devbox.test']})

  // maestro's own key is tightened; a key or token file of the user's is refused with how to fix it.
  const key = join(box.env.MAESTRO_STATE_DIR!, 'tls', 'key.pem')
  chmodSync(key, 0o644)
  await withServer(async () => assert.equal(statSync(key).mode & 0o777, 0o600), {tlsSelfSigned: true, allowHosts: ['devbox.test']})
  const userKey = join(box.home, 'user-key.pem')
  const userCert = join(box.home, 'user-cert.pem')
  writeFileSync(userKey, readFileSync(key), {mode: 0o644})
  writeFileSync(userCert, readCert())
  chmodSync(userKey, 0o644)
  const loose = await box.cli(['serve', '--port', '0', '--tls-cert', userCert, '--tls-key', userKey])
  assert.equal(loose.code, 2)
  assert.match(loose.stderr, /TLS key .*user-key\.pem can be read by other users of this machine \(mode 644\): chmod 600 .*\[INVALID_ARGUMENT\]/)
})

function readCert(): string {
  return readFileSync(join(box.env.MAESTRO_STATE_DIR!, 'tls', 'cert.pem'), 'utf8')
}

test('10. no agent or tmux server sees the token, from MAESTRO_TOKEN or --token-file', async () => {
  const fresh = sandbox('server-envtoken2')
  const file = join(fresh.home, 'token')
  writeFileSync(file, 'file-token-never-inherited-0123\n', {mode: 0o600})
  const envToken = 'env-token-never-inherited-4567'
  const served = await serveChild(fresh, ['--token-file', file], {MAESTRO_TOKEN: envToken})
  try {
    assert.equal(served.t.token, 'file-token-never-inherited-0123')
    const out = join(fresh.home, 'env.txt')
    const created = await api(served.t, 'POST', '/api/agents', {name: 'envcheck', dir: fresh.home, cmd: `sh -c 'env > ${out}; sleep 60'`})
    assert.equal(created.status, 201)
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('MAESTRO_AGENT=envcheck'), 10_000, 'the agent environment')
    const seen = readFileSync(out, 'utf8') + fresh.tmux(['show-environment', '-g'])
    assert.ok(!seen.includes(envToken) && !seen.includes('file-token-never'), 'the token reached the agent')
    assert.doesNotMatch(seen, /MAESTRO_TOKEN/)
    // Nor the tmux clients of terminal viewers.
    const viewer = await openSocket(served.t, terminalPath('envcheck'))
    const clients = await waitFor(() => attachProcesses(fresh), 10_000, 'the viewer tmux client')
    for (const line of clients) {
      const environ = readFileSync(`/proc/${line.split(' ')[0]}/environ`, 'utf8')
      assert.ok(!environ.includes(envToken) && !environ.includes('MAESTRO_TOKEN'), 'the token reached a tmux client')
    }
    await viewer.close()
  } finally {
    served.child.kill('SIGTERM')
    await exitOf(served.child)
    fresh.cleanup()
  }
})

test('7. an event stream that stops reading holds at most the high-water mark, then catches up with the newest list', async () => {
  const {EVENTS_HIGH_WATER_BYTES} = await import('../src/server/sockets.js')
  await withServer(async (t) => {
    const stalled = await openSocket(t, '/api/events')
    await waitFor(() => stalled.notices.length > 0, 10_000, 'the first list')
    // The client stops reading: its TCP window fills, then the server's queue would grow.
    const raw = (stalled.ws as unknown as {_socket: import('node:net').Socket})._socket
    raw.pause()
    let revision = (await api(t, 'GET', '/api/agents/victim/note')).json.revision as number
    let text = ''
    let highest = 0
    for (let i = 0; i < 60; i++) {
      text = `note ${i} ${'x'.repeat(200_000)}`
      const saved = await api(t, 'PUT', '/api/agents/victim/note', {text, revision})
      assert.equal(saved.status, 200)
      revision = saved.json.revision
      await new Promise((resolve) => setImmediate(resolve))
      highest = Math.max(highest, ...t.server.eventStreams().map((stream) => stream.bufferedAmount))
    }
    // 60 lists of 200 kB were due; the queue never held more than the mark plus one list.
    assert.ok(highest > EVENTS_HIGH_WATER_BYTES / 2, `the flood never filled the queue (${highest})`)
    assert.ok(highest <= EVENTS_HIGH_WATER_BYTES + 300_000, `${highest} bytes queued`)
    raw.resume()
    const newest = () => stalled.notices.at(-1)?.agents?.find((agent: {name: string}) => agent.name === 'victim')?.note
    await waitFor(() => newest() === text, 20_000, 'the newest list after resuming')
    await stalled.close()
  })
})

test('8. a flood of refusals from one address is one record with a count; the log rotates at its size limit', async () => {
  const {readdirSync, statSync} = await import('node:fs')
  const {DEFAULT_AUDIT_LIMITS} = await import('../src/server/audit.js')
  assert.deepEqual(DEFAULT_AUDIT_LIMITS, {maxBytes: 10 * 1024 * 1024, files: 5, coalesceMs: 60_000})
  const log = join(box.env.MAESTRO_STATE_DIR!, 'audit.log')
  const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((line) => JSON.parse(line))
  const before = existsSync(log) ? lines(log).length : 0
  await withServer(async (t) => {
    for (let i = 0; i < 300; i++) await call(`${t.base}/api/agents?n=${i}`, {headers: {host: 'rebind.example'}, localAddress: '127.0.0.9'})
    for (let i = 0; i < 300; i++) await call(`${t.base}/api/agents`, {localAddress: '127.0.0.9'})
  })
  const written = lines(log).slice(before).filter((entry) => entry.address === '127.0.0.9')
  const hosts = written.filter((entry) => entry.reason === 'host')
  assert.equal(hosts.length, 2, JSON.stringify(hosts))
  assert.equal(hosts[0].value, 'rebind.example')
  assert.equal(hosts[1].repeated, 299)
  assert.ok(hosts[1].since <= hosts[1].time)
  const anonymous = written.filter((entry) => entry.reason === 'no credentials')
  assert.deepEqual(anonymous.map((entry) => entry.repeated), [undefined, 299])

  // Refusals from many addresses are not coalesced; rotation bounds them instead.
  await withServer(async (t) => {
    for (let i = 0; i < 200; i++) await call(`${t.base}/api/agents`, {localAddress: `127.0.1.${i + 1}`})
  }, {auditLimits: {maxBytes: 4096, files: 3}})
  const files = readdirSync(join(box.env.MAESTRO_STATE_DIR!)).filter((name) => name.startsWith('audit.log')).sort()
  assert.deepEqual(files, ['audit.log', 'audit.log.1', 'audit.log.2'])
  for (const name of files) {
    const path = join(box.env.MAESTRO_STATE_DIR!, name)
    assert.ok(statSync(path).size <= 4096, `${name}: ${statSync(path).size} bytes`)
    assert.equal(statSync(path).mode & 0o777, 0o600)
  }
  // The newest records are in audit.log, in order, ending with the server's stop.
  const newest = lines(log)
  assert.equal(newest.at(-1).event, 'stop')
  assert.equal(newest.filter((entry) => entry.reason === 'no credentials').at(-1).address, '127.0.1.200')
})
