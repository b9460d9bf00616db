import assert from 'node:assert/strict'
import {existsSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {sandbox, waitFor} from './helpers.js'
import {type TestServer, api, call, exitOf, login, newAgent, openSocket, rawRequest, serve, serveChild} from './server-helpers.js'

const box = sandbox('server-api')
let t: TestServer

before(async () => {
  t = await serve(box)
})
after(async () => {
  await t?.server.close()
  box.cleanup()
})

const names = async () => (await api(t, 'GET', '/api/agents')).json.map((agent: {name: string}) => agent.name)

test('GET /api/session tells whether the server is read-only and its version', async () => {
  const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version
  assert.deepEqual((await api(t, 'GET', '/api/session')).json, {readonly: false, version, storage: {failures: 0, last: null}})
})

test('agents are created, listed, renamed and killed with the CLI shapes', async () => {
  const created = await api(t, 'POST', '/api/agents', {name: 'api-one', dir: box.home, cmd: 'cat', note: 'first note'})
  assert.equal(created.status, 201)
  assert.equal(created.json.name, 'api-one')
  assert.equal(created.json.dir, box.home)
  assert.equal(created.json.note, 'first note')
  assert.deepEqual(created.json.group, ['api'])
  assert.equal(created.headers['cache-control'], 'no-store')

  const cli = await box.cli(['ls', '--json'])
  assert.deepEqual(Object.keys(JSON.parse(cli.stdout)[0]).sort(), Object.keys(created.json).sort())
  assert.deepEqual(await names(), ['api-one'])

  const renamed = await api(t, 'POST', '/api/agents/api-one/rename', {name: 'api-two'})
  assert.equal(renamed.status, 200)
  assert.equal(renamed.json.name, 'api-two')
  assert.equal(renamed.json.note, 'first note')

  const killed = await api(t, 'DELETE', '/api/agents/api-two')
  assert.equal(killed.status, 200)
  assert.equal(killed.json.name, 'api-two')
  assert.ok(existsSync(join(killed.json.archive, 'note.md')))
  assert.equal(readFileSync(join(killed.json.archive, 'note.md'), 'utf8'), 'first note')
  assert.deepEqual(await names(), [])
})

test('errors are JSON with the CLI codes and fitting statuses', async () => {
  await newAgent(box, 'taken', 'cat')
  const cases: [string, string, unknown, number, string][] = [
    ['DELETE', '/api/agents/ghost', undefined, 404, 'AGENT_NOT_FOUND'],
    ['GET', '/api/agents/ghost/note', undefined, 404, 'AGENT_NOT_FOUND'],
    ['POST', '/api/agents', {name: 'bad name!'}, 400, 'INVALID_NAME'],
    ['POST', '/api/agents', {name: 'taken', cmd: 'cat'}, 409, 'AGENT_EXISTS'],
    ['POST', '/api/agents', {name: 'nodir', dir: join(box.home, 'missing')}, 400, 'DIR_NOT_FOUND'],
    ['POST', '/api/agents/taken/rename', {name: 5}, 400, 'INVALID_ARGUMENT'],
    ['POST', '/api/agents/taken/restart', undefined, 409, 'AGENT_RUNNING'],
    ['POST', '/api/agents/ghost/restart', undefined, 404, 'AGENT_NOT_FOUND'],
    ['GET', '/api/nothing', undefined, 404, 'NOT_FOUND'],
    ['PATCH', '/api/agents', {}, 405, 'METHOD_NOT_ALLOWED'],
  ]
  for (const [method, path, body, status, code] of cases) {
    const reply = await api(t, method, path, body)
    assert.equal(reply.status, status, `${method} ${path}`)
    assert.equal(reply.json.error.code, code, `${method} ${path}`)
    assert.equal(typeof reply.json.error.message, 'string')
  }
})

test('a note is saved with the revision it edits; a stale revision gets 409 and the current note', async () => {
  await newAgent(box, 'noted', 'cat')
  const empty = await api(t, 'GET', '/api/agents/noted/note')
  assert.deepEqual(empty.json, {text: '', revision: 0, updatedAt: null})
  const first = await api(t, 'PUT', '/api/agents/noted/note', {text: 'editor A', revision: 0})
  assert.equal(first.status, 200)
  assert.equal(first.json.revision, 1)
  const stale = await api(t, 'PUT', '/api/agents/noted/note', {text: 'editor B', revision: 0})
  assert.equal(stale.status, 409)
  assert.equal(stale.json.error.code, 'NOTE_CONFLICT')
  assert.equal(stale.json.error.current.text, 'editor A')
  assert.equal(stale.json.error.current.revision, 1)
  assert.equal((await api(t, 'PUT', '/api/agents/noted/note', {text: 'no revision'})).status, 400)
  assert.equal((await api(t, 'GET', '/api/agents/noted/note')).json.text, 'editor A')
})

test('the page is served from memory with its content types', async () => {
  const cookie = await login(t)
  const dir = new URL('../dist/web/', import.meta.url)
  const index = await call(`${t.base}/`, {headers: {cookie}})
  assert.equal(index.status, 200)
  assert.equal(index.headers['content-type'], 'text/html; charset=utf-8')
  assert.equal(index.body, readFileSync(new URL('index.html', dir), 'utf8'))
  const script = await call(`${t.base}/app.js`, {headers: {cookie}})
  assert.equal(script.headers['content-type'], 'text/javascript; charset=utf-8')
  assert.equal(script.body, readFileSync(new URL('app.js', dir), 'utf8'))
  if (existsSync(new URL('app.css', dir))) {
    assert.equal((await call(`${t.base}/app.css`, {headers: {cookie}})).headers['content-type'], 'text/css; charset=utf-8')
  }
  // Raw bytes: an HTTP client would resolve `/../` before sending, and the server never see it.
  const pkg = readFileSync(new URL('../package.json', import.meta.url), 'utf8')
  for (const path of ['/../package.json', '/%2e%2e/package.json', '/..%2fpackage.json', '/%2e%2e%2fpackage.json', '/..\\package.json', '/../../../../../../etc/passwd', '/%2e%2e/%2e%2e/%2e%2e/%2e%2e/etc/passwd']) {
    const reply = await rawRequest(t.port, `GET ${path} HTTP/1.1\r\nHost: localhost:${t.port}\r\nCookie: ${cookie}\r\nConnection: close\r\n\r\n`)
    assert.match(reply, /^HTTP\/1\.1 404 /, `${path}: ${reply.split('\r\n')[0]}`)
    assert.ok(!reply.includes(pkg.slice(0, 40)) && !reply.includes('root:x:0:0'), `${path} answered with a file from outside the page`)
  }
  assert.equal((await call(`${t.base}/nothing.js`, {headers: {cookie}})).status, 404)
  assert.equal((await call(`${t.base}/`, {method: 'POST', headers: {cookie, origin: t.origin}})).status, 405)
})

test('/api/events sends the agent list on connect and again only when it changed', async () => {
  const events = await openSocket(t, '/api/events')
  // Other events (health, renamed) come on the same stream.
  const lists = () => events.notices.filter((event) => event.type === 'agents')
  await waitFor(() => lists().length >= 1, 5000, 'the first list')
  assert.ok(Array.isArray(lists()[0].agents))
  const listed = (test: (agent: {name: string; note: string}) => boolean) => lists().some((event) => event.agents.some(test))
  await api(t, 'POST', '/api/agents', {name: 'evented', cmd: 'cat', dir: box.home})
  await waitFor(() => listed((agent) => agent.name === 'evented'), 3000, 'a list with the new agent')
  // Each change through the API makes the server read the list again; one that leaves it as it was sends nothing.
  const first = await api(t, 'PUT', '/api/agents/evented/note', {text: 'same', revision: 0})
  assert.equal(first.status, 200)
  await waitFor(() => listed((agent) => agent.name === 'evented' && agent.note === 'same'), 3000, 'the note in a list')
  assert.equal((await api(t, 'PUT', '/api/agents/evented/note', {text: 'same', revision: first.json.revision})).status, 200)
  assert.equal((await api(t, 'PUT', '/api/agents/evented/note', {text: 'later', revision: first.json.revision + 1})).status, 200)
  await waitFor(() => listed((agent) => agent.name === 'evented' && agent.note === 'later'), 3000, 'the later note in a list')
  const sent = lists().map((event) => JSON.stringify(event))
  for (let i = 1; i < sent.length; i++) assert.notEqual(sent[i], sent[i - 1], 'the same list was sent twice in a row')
  await events.close()
})

test('maestro serve prints one line with the URL, or one JSON line with --json', async () => {
  const human = await serveChild(box)
  human.child.kill('SIGTERM')
  assert.equal(await exitOf(human.child), 0)
  assert.match(human.line, /^maestro serving on http:\/\/localhost:\d+\/\?token=[A-Za-z0-9_-]{43}$/)

  const json = await serveChild(box, ['--json'])
  json.child.kill('SIGINT')
  assert.equal(await exitOf(json.child), 0)
  const parsed = JSON.parse(json.line)
  assert.deepEqual(Object.keys(parsed), ['url', 'host', 'port', 'tls', 'readonly'])
  assert.equal(parsed.url, `http://localhost:${parsed.port}/?token=${json.t.token}`)
  assert.deepEqual([parsed.host, parsed.tls, parsed.readonly], ['localhost', false, false])
})

test('a port in use is a one-line PORT_IN_USE error', async () => {
  const blocker = createServer()
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
  const port = (blocker.address() as {port: number}).port
  try {
    const result = await box.cli(['serve', '--port', String(port)])
    assert.equal(result.code, 1)
    assert.equal(result.stdout, '')
    assert.match(result.stderr, new RegExp(`^Error: port ${port} on localhost is in use .*\\[PORT_IN_USE\\]\\n$`))
    const json = await box.cli(['serve', '--port', String(port), '--json'])
    assert.equal(JSON.parse(json.stdout).error.code, 'PORT_IN_USE')
  } finally {
    blocker.close()
  }
})

test('--open hands the URL with its token to the browser', async () => {
  const browser = join(box.home, 'browser.sh')
  const opened = join(box.home, 'opened.txt')
  writeFileSync(browser, `#!/bin/sh\nprintf '%s' "$1" > '${opened}'\n`, {mode: 0o700})
  // xdg-open, which the open package runs on Linux, honours $BROWSER outside a desktop session.
  const served = await serveChild(box, ['--open'], {BROWSER: browser, DISPLAY: '', WAYLAND_DISPLAY: '', XDG_CURRENT_DESKTOP: ''})
  try {
    const url = /https?:\/\/\S+/.exec(served.line)![0]
    await waitFor(() => existsSync(opened) && readFileSync(opened, 'utf8') === url, 10_000, 'the browser to be opened')
  } finally {
    served.child.kill('SIGTERM')
    assert.equal(await exitOf(served.child), 0)
  }
})

test('a 300 KB note saves from the API; one byte over 1 MiB is refused with 413 NOTE_TOO_LARGE', async () => {
  await newAgent(box, 'long-note', 'cat')
  const text = `${'line of a long plan\n'.repeat(16_000)}end`
  assert.ok(Buffer.byteLength(text) > 300 * 1024)
  const saved = await api(t, 'PUT', '/api/agents/long-note/note', {text, revision: 0})
  assert.equal(saved.status, 200, JSON.stringify(saved.json))
  assert.equal((await box.cli(['note', 'long-note'])).stdout, `${text}\n`)
  const over = await api(t, 'PUT', '/api/agents/long-note/note', {text: `${'\u0001'.repeat(1024 * 1024)}x`, revision: saved.json.revision})
  assert.equal(over.status, 413)
  assert.equal(over.json.error.code, 'NOTE_TOO_LARGE')
  assert.equal((await api(t, 'GET', '/api/agents/long-note/note')).json.revision, saved.json.revision)
})

test('note saves racing a kill are in its archive or refused with AGENT_NOT_FOUND, never acknowledged and lost', async () => {
  await newAgent(box, 'doomed', 'cat')
  let revision = 0
  let lastSaved = ''
  let refusal: {status: number; json: any} | undefined
  // Saves follow each other as fast as they are answered while the kill runs.
  const saving = (async () => {
    for (let index = 0; !refusal; index++) {
      const reply = await api(t, 'PUT', '/api/agents/doomed/note', {text: `save ${index}`, revision})
      if (reply.status === 200) ({revision, text: lastSaved} = reply.json)
      else refusal = reply
    }
  })()
  await waitFor(() => revision >= 3, 10_000, 'the first saves')
  const killed = await api(t, 'DELETE', '/api/agents/doomed')
  await saving
  assert.equal(killed.status, 200, JSON.stringify(killed.json))
  assert.equal(refusal!.status, 404, JSON.stringify(refusal!.json))
  assert.equal(refusal!.json.error.code, 'AGENT_NOT_FOUND')
  assert.equal(readFileSync(join(killed.json.archive, 'note.md'), 'utf8'), lastSaved, 'the last acknowledged save is the archived note')
})
