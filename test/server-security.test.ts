import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {X509Certificate, createPrivateKey} from 'node:crypto'
import {chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {CONTENT_SECURITY_POLICY} from '../src/server/headers.js'
import {DEFAULT_MAX_CLIENTS} from '../src/server/index.js'
import {DEFAULT_AUTH_LIMIT} from '../src/server/rate-limit.js'
import {makeSelfSigned} from '../src/server/tls.js'
import {MAX_INPUT_BYTES, parseClientMessage, utf8Length} from '../src/shared/protocol.js'
import {sandbox, waitFor} from './helpers.js'
import {
  type TestServer,
  api,
  call,
  exitOf,
  login,
  newAgent,
  openSocket,
  serve,
  serveChild,
  terminalPath,
  upgradeStatus,
} from './server-helpers.js'

const box = sandbox('server-security')
let t: TestServer

before(async () => {
  // A log left with a loose mode must be tightened, not trusted.
  mkdirSync(box.env.MAESTRO_STATE_DIR!, {recursive: true})
  writeFileSync(join(box.env.MAESTRO_STATE_DIR!, 'audit.log'), '', {mode: 0o644})
  t = await serve(box)
  await newAgent(box, 'sec', 'cat')
})
after(async () => {
  await t?.server.close()
  box.cleanup()
})

const auditLines = () =>
  readFileSync(join(box.env.MAESTRO_STATE_DIR!, 'audit.log'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))

// 1. Loopback by default; the network only with TLS.

test('binds to loopback only by default', () => {
  assert.equal(t.server.host, 'localhost')
  const listening = execFileSync('ss', ['-ltnH', `sport = :${t.port}`], {encoding: 'utf8'})
  const localAddresses = listening.trim().split('\n').map((line) => line.trim().split(/\s+/)[3])
  assert.deepEqual(localAddresses, [`127.0.0.1:${t.port}`])
})

test('a non-loopback --host without TLS is refused with TLS_REQUIRED', async () => {
  const result = await box.cli(['serve', '--host', '0.0.0.0', '--port', '0'])
  assert.equal(result.code, 2)
  assert.match(result.stderr, /needs TLS.*\[TLS_REQUIRED\]/)
  assert.equal(result.stdout, '')
})

test('--insecure serves plain HTTP on the network with a loud warning', async () => {
  const {child, stderr, line, t: open} = await serveChild(box, ['--host', '0.0.0.0', '--insecure'])
  try {
    assert.match(line, /^maestro serving on http:\/\//)
    assert.match(stderr(), /WARNING: serving plain HTTP on 0\.0\.0\.0/)
    // A wildcard address is no name a browser should use: it is not on the Host allowlist.
    const headers = {authorization: `Bearer ${open.token}`}
    assert.equal((await call(`http://127.0.0.1:${open.port}/api/session`, {headers: {...headers, host: `0.0.0.0:${open.port}`}})).status, 403)
    assert.equal((await call(`http://127.0.0.1:${open.port}/api/session`, {headers})).status, 200)
  } finally {
    child.kill('SIGTERM')
    assert.equal(await exitOf(child), 0)
  }
})

test('every self-signed certificate maestro makes parses, its key matches and it names its hosts: 3,000 in a row', () => {
  // Its serial is random: one in 256 used to start with a padding byte that DER forbids.
  for (let made = 0; made < 3000; made++) {
    const {cert, key} = makeSelfSigned(['localhost', '127.0.0.1'])
    const x509 = new X509Certificate(cert)
    assert.ok(x509.checkPrivateKey(createPrivateKey(key)))
    assert.equal(x509.checkHost('localhost'), 'localhost')
  }
})

test('--tls-self-signed serves HTTPS with a 0600 key in the state dir and a Secure cookie', async () => {
  const secure = await serve(box, {tlsSelfSigned: true, allowHosts: ['devbox.test']})
  try {
    assert.match(secure.server.url, /^https:\/\/localhost:\d+\/\?token=/)
    const tlsDir = join(box.env.MAESTRO_STATE_DIR!, 'tls')
    assert.equal(statSync(join(tlsDir, 'key.pem')).mode & 0o777, 0o600)
    const cert = readFileSync(join(tlsDir, 'cert.pem'), 'utf8')
    const x509 = new X509Certificate(cert)
    assert.equal(x509.fingerprint256, secure.server.fingerprint)
    assert.ok(x509.checkHost('localhost') && x509.checkHost('devbox.test') && x509.checkIP('127.0.0.1') && x509.checkIP('::1'))
    const base = `https://localhost:${secure.port}`
    const reply = await call(`${base}/?token=${secure.token}`, {ca: cert})
    assert.equal(reply.status, 303)
    assert.match(String(reply.headers['set-cookie']), /; Secure/)
    const ws = await openSocket({...secure, base, origin: base}, '/api/events', {ca: cert})
    await ws.close()
    // The same names next time: the same certificate, so the browser's exception still holds.
    const again = await serveChild(box, ['--tls-self-signed', '--allow-host', 'devbox.test'])
    again.child.kill('SIGTERM')
    assert.equal(await exitOf(again.child), 0)
    assert.match(again.line, /^maestro serving on https:\/\//)
    assert.ok(again.stderr().includes(`TLS certificate SHA-256 fingerprint: ${x509.fingerprint256}`), again.stderr())
  } finally {
    await secure.server.close()
  }
})

// 2. Authentication.

test('no token: the page answers 401 with a hint, the API 401 JSON', async () => {
  const page = await call(`${t.base}/`)
  assert.equal(page.status, 401)
  assert.match(page.headers['content-type']!, /text\/html/)
  assert.match(page.body, /Open the URL that <code>maestro serve<\/code> printed/)
  const apiReply = await call(`${t.base}/api/agents`)
  assert.equal(apiReply.status, 401)
  assert.equal(JSON.parse(apiReply.body).error.code, 'UNAUTHORIZED')
  assert.equal(await upgradeStatus(t, '/api/events', {headers: {authorization: ''}}), 401)
  // The URL token is only traded on a page load, never accepted by the API or an upgrade.
  assert.equal((await call(`${t.base}/api/agents?token=${t.token}`)).status, 401)
  assert.equal(await upgradeStatus(t, `/api/events?token=${t.token}`, {headers: {authorization: ''}}), 401)
})

test('a wrong token of the same length or another length gets 401 and no cookie', async () => {
  const sameLength = t.token.slice(0, -1) + (t.token.endsWith('A') ? 'B' : 'A')
  for (const wrong of [sameLength, 'short', `${t.token}x`]) {
    const reply = await call(`${t.base}/?token=${encodeURIComponent(wrong)}`)
    assert.equal(reply.status, 401, wrong)
    assert.equal(reply.headers['set-cookie'], undefined)
    assert.equal((await call(`${t.base}/api/agents`, {headers: {authorization: `Bearer ${wrong}`}})).status, 401)
  }
  assert.equal(await upgradeStatus(t, '/api/events', {headers: {authorization: `Bearer ${sameLength}`}}), 401)
})

test('the right token sets an HttpOnly SameSite=Strict cookie named for the port and redirects without it', async () => {
  const reply = await call(`${t.base}/?token=${t.token}&x=1`)
  assert.equal(reply.status, 303)
  assert.equal(reply.headers.location, '/?x=1')
  const [cookie] = reply.headers['set-cookie']!
  assert.match(cookie, new RegExp(`^maestro_session_${t.port}=[0-9a-z]+\\.a\\.[A-Za-z0-9_-]{43}; Path=/; Max-Age=${30 * 86_400}; HttpOnly; SameSite=Strict$`))
  assert.ok(!cookie.includes(t.token))
  const page = await call(`${t.base}/`, {headers: {cookie: cookie.split(';')[0]}})
  assert.equal(page.status, 200)
  const events = await openSocket(t, '/api/events', {headers: {authorization: '', cookie: cookie.split(';')[0]}})
  await events.close()
})

test('scripts authenticate with Authorization: Bearer', async () => {
  const reply = await api(t, 'GET', '/api/agents')
  assert.equal(reply.status, 200)
  assert.deepEqual(reply.json.map((agent: {name: string}) => agent.name), ['sec'])
})

test('the token is never taken from the command line, only from MAESTRO_TOKEN or --token-file', async () => {
  const flag = await box.cli(['serve', '--port', '0', '--token', 'a-token-from-argv-123'])
  assert.equal(flag.code, 2)
  assert.match(flag.stderr, /Nonexistent flag: --token/)

  const fromEnv = await serveChild(box, [], {MAESTRO_TOKEN: 'env-token-0123456789abcdef'})
  fromEnv.child.kill('SIGTERM')
  await exitOf(fromEnv.child)
  assert.equal(fromEnv.t.token, 'env-token-0123456789abcdef')

  const file = join(box.home, 'token')
  writeFileSync(file, 'file-token-0123456789abcdef\n', {mode: 0o600})
  const fromFile = await serveChild(box, ['--token-file', file])
  fromFile.child.kill('SIGTERM')
  await exitOf(fromFile.child)
  assert.equal(fromFile.t.token, 'file-token-0123456789abcdef')
  assert.doesNotMatch(fromFile.stderr(), /WARNING/)

  chmodSync(file, 0o644)
  const loose = await box.cli(['serve', '--port', '0', '--token-file', file])
  assert.equal(loose.code, 2)
  assert.match(loose.stderr, /token file .*token can be read by other users of this machine \(mode 644\): chmod 600 .*\[INVALID_ARGUMENT\]/)
  chmodSync(file, 0o600)

  writeFileSync(file, 'short\n')
  const weak = await box.cli(['serve', '--port', '0', '--token-file', file])
  assert.equal(weak.code, 2)
  assert.match(weak.stderr, /at least 16 characters.*\[INVALID_ARGUMENT\]/)
  const spaced = await box.cli(['serve', '--port', '0'], {env: {MAESTRO_TOKEN: 'a token with spaces in it'}})
  assert.equal(spaced.code, 2)
  assert.match(spaced.stderr, /without spaces.*\[INVALID_ARGUMENT\]/)
})

test('MAESTRO_TOKEN is not passed on to tmux or to the agents', async () => {
  // A sandbox without a tmux server yet, so the one serve starts has serve's environment.
  const fresh = sandbox('server-envtoken')
  const token = 'env-token-never-inherited-42'
  const served = await serveChild(fresh, [], {MAESTRO_TOKEN: token})
  try {
    const out = join(fresh.home, 'env.txt')
    const created = await api(served.t, 'POST', '/api/agents', {name: 'envcheck', dir: fresh.home, cmd: `sh -c 'env > ${out}; sleep 60'`})
    assert.equal(created.status, 201)
    await waitFor(() => existsSync(out) && readFileSync(out, 'utf8').includes('MAESTRO_AGENT=envcheck'), 5000, 'the agent environment')
    assert.ok(!readFileSync(out, 'utf8').includes(token))
    assert.doesNotMatch(fresh.tmux(['show-environment', '-g']), /MAESTRO_TOKEN/)
  } finally {
    served.child.kill('SIGTERM')
    await exitOf(served.child)
    fresh.cleanup()
  }
})

test('a generated token carries 256 bits and changes on every start', async () => {
  const other = await serve(box)
  await other.server.close()
  assert.match(t.token, /^[A-Za-z0-9_-]{43}$/)
  assert.notEqual(other.token, t.token)
})

// 3. DNS rebinding: the Host header.

test('a Host outside the allowlist gets 403 even with a valid token', async () => {
  for (const host of ['evil.example', `evil.example:${t.port}`, `localhost:${t.port + 1}`, `localhost.evil.example:${t.port}`, `[::2]:${t.port}`, '%%%']) {
    const reply = await call(`${t.base}/api/agents`, {headers: {host, authorization: `Bearer ${t.token}`}})
    assert.equal(reply.status, 403, host)
    assert.equal(JSON.parse(reply.body).error.code, 'FORBIDDEN_HOST')
    assert.equal((await call(`${t.base}/?token=${t.token}`, {headers: {host}})).status, 403)
  }
  assert.equal(await upgradeStatus(t, '/api/events', {headers: {host: `evil.example:${t.port}`}, origin: `http://evil.example:${t.port}`}), 403)
})

test('loopback names, the bound host and --allow-host names are served on the right port', async () => {
  for (const host of [`localhost:${t.port}`, `127.0.0.1:${t.port}`, `[::1]:${t.port}`, `LOCALHOST:${t.port}`]) {
    assert.equal((await call(`${t.base}/api/session`, {headers: {host, authorization: `Bearer ${t.token}`}})).status, 200, host)
  }
  const bound = await serve(box, {host: '127.0.0.2'})
  try {
    assert.match(bound.server.url, /^http:\/\/127\.0\.0\.2:/)
    assert.equal((await call(`${bound.base}/api/session`, {headers: {authorization: `Bearer ${bound.token}`}})).status, 200)
  } finally {
    await bound.server.close()
  }
  const named = await serve(box, {allowHosts: ['devbox.test']})
  try {
    const host = `devbox.test:${named.port}`
    assert.equal((await call(`${named.base}/api/session`, {headers: {host: `devbox.test:${named.port + 1}`, authorization: `Bearer ${named.token}`}})).status, 403)
    assert.equal((await call(`${named.base}/api/session`, {headers: {host, authorization: `Bearer ${named.token}`}})).status, 200)
    const viewer = await openSocket(named, '/api/events', {headers: {host}, origin: `http://${host}`})
    await viewer.close()
  } finally {
    await named.server.close()
  }
})

// 4. Cross-site WebSocket hijacking and CSRF: the Origin header.

test('an upgrade needs an Origin equal to the server origin, exactly', async () => {
  for (const origin of ['http://evil.example', 'null', `file://`, `http://localhost:${t.port}.evil.example`, `http://localhost:${t.port + 1}`, `https://localhost:${t.port}`, `${t.origin}/`, '']) {
    assert.equal(await upgradeStatus(t, terminalPath('sec'), {origin}), 403, origin)
  }
  assert.equal(await upgradeStatus(t, terminalPath('sec'), {origin: null}), 403)
  assert.equal(await upgradeStatus(t, '/api/events', {origin: `http://127.0.0.1:${t.port}`}), 403)
  assert.equal(await upgradeStatus(t, terminalPath('sec')), 101)
})

test('Origin is checked before authentication on the upgrade: no token is tried from a foreign page', async () => {
  const before = auditLines().length
  assert.equal(await upgradeStatus(t, '/api/events', {origin: 'http://token-guesser.example', headers: {authorization: 'Bearer wrong'}}), 403)
  const added = auditLines().slice(before)
  assert.deepEqual(added.map((entry) => [entry.event, entry.reason]), [['refused', 'origin']])
})

test('a mutating request without Origin, or from another origin, is refused with 403', async () => {
  const body = JSON.stringify({name: 'csrf', cmd: 'sleep 60'})
  const headers = {authorization: `Bearer ${t.token}`, 'content-type': 'application/json'}
  for (const origin of [undefined, 'http://evil.example', 'null']) {
    const reply = await call(`${t.base}/api/agents`, {method: 'POST', body, headers: origin ? {...headers, origin} : headers})
    assert.equal(reply.status, 403, origin)
    assert.equal(JSON.parse(reply.body).error.code, 'FORBIDDEN_ORIGIN')
  }
  const form = await call(`${t.base}/api/agents`, {method: 'POST', body: 'name=csrf', headers: {...headers, origin: t.origin, 'content-type': 'application/x-www-form-urlencoded'}})
  assert.equal(form.status, 415)
  assert.deepEqual((await api(t, 'GET', '/api/agents')).json.map((agent: {name: string}) => agent.name), ['sec'])
})

test('GET never changes state: mutating routes answer 405 to GET', async () => {
  assert.equal((await api(t, 'GET', '/api/agents/sec/rename')).status, 405)
  assert.equal((await api(t, 'GET', '/api/agents/sec')).status, 405)
  assert.deepEqual((await api(t, 'GET', '/api/agents')).json.map((agent: {name: string}) => agent.name), ['sec'])
})

// 5. Rate limits, caps and malformed input.

test('50 rapid wrong tokens are rate limited with 429 and Retry-After; the right token works afterwards', async () => {
  assert.deepEqual(DEFAULT_AUTH_LIMIT, {max: 10, maxTotal: 100, windowMs: 60_000})
  // The window must outlast 50 requests on a loaded 2-core machine, or it resets mid-run.
  const limited = await serve(box, {authLimit: {max: 10, maxTotal: 100, windowMs: 6000}})
  try {
    const cookie = await login(limited)
    // Wrong cookies (an old tab of an earlier server, say) are not counted.
    for (let i = 0; i < 15; i++) {
      assert.equal((await call(`${limited.base}/api/agents`, {headers: {cookie: `maestro_session_${limited.port}=stale-${i}`}})).status, 401)
    }
    const statuses: number[] = []
    let retryAfter: string | undefined
    for (let i = 0; i < 50; i++) {
      const reply = await call(`${limited.base}/?token=wrong-${i}`)
      statuses.push(reply.status)
      retryAfter ??= reply.headers['retry-after'] as string | undefined
    }
    assert.deepEqual(statuses.slice(0, 10), Array(10).fill(401))
    assert.deepEqual(statuses.slice(10), Array(40).fill(429))
    assert.ok(Number(retryAfter) >= 1 && Number(retryAfter) <= 6, retryAfter)
    // While limited, even the right token gets no answer; a signed-in browser keeps working.
    assert.equal((await call(`${limited.base}/?token=${limited.token}`)).status, 429)
    assert.equal((await call(`${limited.base}/api/agents`, {headers: {authorization: `Bearer ${limited.token}`}})).status, 429)
    assert.equal((await call(`${limited.base}/api/agents`, {headers: {cookie}})).status, 200)
    assert.equal(await upgradeStatus(limited, '/api/events'), 429)
    await new Promise((resolve) => setTimeout(resolve, Number(retryAfter) * 1000 + 100))
    assert.equal((await call(`${limited.base}/?token=${limited.token}`)).status, 303)
  } finally {
    await limited.server.close()
  }
})

// Constant time itself cannot be measured reliably here; what can be: a comparison that only ever
// sees equal-length digests answers for every length (a plain timingSafeEqual would throw on them).
test('tokens are compared in constant time over SHA-256 digests', async () => {
  const {secretEquals} = await import('../src/server/auth.js')
  const last = t.token.at(-1) === 'A' ? 'B' : 'A'
  const sameLength = [`${t.token.slice(0, -1)}${last}`, `${last}${t.token.slice(1)}`]
  const otherLength = ['', t.token.slice(1), `${t.token}x`, t.token.repeat(50), 'é'.repeat(t.token.length)]
  assert.equal(secretEquals(t.token, t.token), true)
  for (const wrong of [...sameLength, ...otherLength]) assert.equal(secretEquals(wrong, t.token), false, JSON.stringify(wrong.slice(0, 60)))
  // The server behind it (its own, so that these failures count against no other test's rate
  // limit): only the exact token gets in, and a wrong one of any length is a plain 401.
  const own = await serve(box)
  try {
    const bearer = (token: string) => call(`${own.base}/api/agents`, {headers: {authorization: `Bearer ${token}`}})
    assert.equal((await bearer(own.token)).status, 200)
    const wrongs = [`${own.token.slice(0, -1)}${own.token.at(-1) === 'A' ? 'B' : 'A'}`, own.token.slice(1), `${own.token}x`, own.token.repeat(50)]
    for (const wrong of wrongs) assert.equal((await bearer(wrong)).status, 401, JSON.stringify(wrong.slice(0, 60)))
  } finally {
    await own.server.close()
  }
})

test('more sockets than --max-clients are refused with 503', async () => {
  assert.equal(DEFAULT_MAX_CLIENTS, 64)
  const capped = await serve(box, {maxClients: 2})
  try {
    const first = await openSocket(capped, '/api/events')
    const second = await openSocket(capped, '/api/events')
    assert.equal(await upgradeStatus(capped, '/api/events'), 503)
    await first.close()
    await waitFor(async () => (await upgradeStatus(capped, '/api/events')) === 101, 3000, 'a free slot')
    await second.close()
  } finally {
    await capped.server.close()
  }
})

test('an oversized frame closes the socket with 1009; the server keeps serving', async () => {
  const viewer = await openSocket(t, terminalPath('sec'))
  viewer.send({type: 'input', data: 'x'.repeat(300 * 1024)})
  const closed = await viewer.closedPromise
  assert.equal(closed.code, 1009)
  assert.equal((await api(t, 'GET', '/api/session')).status, 200)
})

test('malformed frames are dropped, never typed, and the socket stays open', async () => {
  box.tmux(['send-keys', '-t', '=sec:', 'C-l'])
  const viewer = await openSocket(t, terminalPath('sec'))
  for (const frame of ['not json', '{"type":"input"}', '{"type":"input","data":5}', '{"type":"paste","data":"MALFORMED"}', '[1,2]', 'null', '{"type":"resize","cols":1e9,"rows":5}', '{"type":"resize","cols":-3,"rows":"a"}', '{"type":"ack","bytes":-5}', '{"type":"ack","bytes":1.5}', '{"type":"ack"}', `{"type":"input","data":"${'y'.repeat(70_000)}"}`]) {
    viewer.send(frame)
  }
  viewer.ws.send(Buffer.from('{"type":"input","data":"BINARY"}'), {binary: true})
  viewer.send({type: 'input', data: 'WELLFORMED\r'})
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=sec:']).includes('WELLFORMED'), 5000, 'the well-formed input')
  const screen = box.tmux(['capture-pane', '-p', '-t', '=sec:'])
  assert.doesNotMatch(screen, /MALFORMED|BINARY|yyyy/)
  assert.equal(viewer.closed, undefined)
  await viewer.close()
})

test('input is limited in UTF-8 bytes, not characters: multi-byte input over the limit is dropped', async () => {
  // 3 bytes each: fewer characters than MAX_INPUT_BYTES, three times as many bytes.
  const euros = '€'.repeat(30_000)
  assert.ok(euros.length < MAX_INPUT_BYTES && utf8Length(euros) > MAX_INPUT_BYTES)
  const atLimit = `${'€'.repeat(21_845)}a`
  assert.equal(utf8Length(atLimit), MAX_INPUT_BYTES)
  assert.deepEqual(parseClientMessage(JSON.stringify({type: 'input', data: atLimit})), {type: 'input', data: atLimit})
  assert.equal(parseClientMessage(JSON.stringify({type: 'input', data: `${atLimit}a`})), undefined)
  assert.equal(parseClientMessage(JSON.stringify({type: 'input', data: '😀'.repeat(16_385)})), undefined, 'surrogate pairs count 4 bytes')
  for (const text of ['', 'ascii', 'é', '€', '😀', 'a😀b', '\uD800', 'x\uDC00y', '\uD800\uD800\uDC00']) assert.equal(utf8Length(text), Buffer.byteLength(text), JSON.stringify(text))

  box.tmux(['send-keys', '-t', '=sec:', 'C-l'])
  const viewer = await openSocket(t, terminalPath('sec'))
  viewer.send({type: 'input', data: euros})
  viewer.send({type: 'input', data: 'AFTER-EUROS\r'})
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=sec:']).includes('AFTER-EUROS'), 5000, 'the input after the oversized one')
  assert.doesNotMatch(box.tmux(['capture-pane', '-p', '-t', '=sec:']), /€/)
  assert.equal(viewer.closed, undefined)
  await viewer.close()
})

test('malformed request lines, headers, URLs and JSON get a 4xx, never a crash', async () => {
  const raw = (text: string) =>
    new Promise<string>((resolve) => {
      const socket = connect(t.port, '127.0.0.1')
      let answer = ''
      socket.on('data', (chunk) => (answer += chunk))
      socket.on('close', () => resolve(answer))
      socket.on('error', () => resolve(answer))
      socket.end(text)
    })
  const garbage = await raw('GARBAGE\r\n\r\n')
  assert.match(garbage, /^HTTP\/1\.1 400/)
  assert.ok(garbage.includes(`Content-Security-Policy: ${CONTENT_SECURITY_POLICY}`))
  assert.match(await raw(`GET / HTTP/1.1\r\nHost: localhost:${t.port}\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431/)
  assert.match(await raw(`GET /api/session HTTP/1.0\r\nAuthorization: Bearer ${t.token}\r\n\r\n`), /^HTTP\/1\.1 403/)
  assert.match(await raw(`GET / HTTP/1.1\r\nHost: localhost:${t.port}\r\nBad Header\r\n\r\n`), /^HTTP\/1\.1 400/)
  assert.match(await raw(`GET http://evil.example/ HTTP/1.1\r\nHost: localhost:${t.port}\r\n\r\n`), /^HTTP\/1\.1 400/)
  assert.match(await raw(`GET //evil.example/ HTTP/1.1\r\nHost: localhost:${t.port}\r\n\r\n`), /^HTTP\/1\.1 400/)
  assert.match(await raw(`GET /api/events HTTP/1.1\r\nHost: localhost:${t.port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nOrigin: ${t.origin}\r\nAuthorization: Bearer ${t.token}\r\n\r\n`), /^HTTP\/1\.1 400/)
  assert.equal((await api(t, 'GET', '/api/agents/%E0%A4%A/note')).status, 400)
  assert.equal((await api(t, 'GET', '/api/agents/..%2F..%2Fetc/note')).status, 400)
  assert.equal(await upgradeStatus(t, '/api/agents/%zz/terminal'), 400)
  assert.equal(await upgradeStatus(t, '/api/agents/sec/terminal?cols=abc&rows=10'), 400)
  assert.equal(await upgradeStatus(t, '/api/nothing'), 404)
  const headers = {authorization: `Bearer ${t.token}`, origin: t.origin, 'content-type': 'application/json'}
  for (const body of ['{', '[]', '"text"', 'null', '{"name": 5}']) {
    const reply = await call(`${t.base}/api/agents`, {method: 'POST', body, headers})
    assert.equal(reply.status, 400, body)
  }
  // Past the body cap (room for a 1 MiB note with every byte escaped), before any parsing.
  const big = await call(`${t.base}/api/agents/sec/note`, {method: 'PUT', body: JSON.stringify({text: 'z'.repeat(7 * 1024 * 1024), revision: 0}), headers})
  assert.equal(big.status, 413)
  assert.equal(JSON.parse(big.body).error.code, 'PAYLOAD_TOO_LARGE')
  assert.equal((await api(t, 'GET', '/api/session')).status, 200)
})

// 6. Headers.

test('every response carries the CSP, nosniff and no-referrer; API responses are no-store', async () => {
  assert.equal(
    CONTENT_SECURITY_POLICY,
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  )
  const cookie = await login(t)
  const replies = [
    await call(`${t.base}/`, {headers: {cookie}}),
    await call(`${t.base}/app.js`, {headers: {cookie}}),
    await call(`${t.base}/`),
    await call(`${t.base}/api/agents`, {headers: {cookie}}),
    await call(`${t.base}/api/agents`, {headers: {host: 'evil.example'}}),
  ]
  for (const reply of replies) {
    assert.equal(reply.headers['content-security-policy'], CONTENT_SECURITY_POLICY)
    assert.equal(reply.headers['x-content-type-options'], 'nosniff')
    assert.equal(reply.headers['referrer-policy'], 'no-referrer')
    assert.equal(reply.headers['x-frame-options'], 'DENY')
  }
  assert.equal(replies[3].headers['cache-control'], 'no-store')
  assert.equal(replies[4].headers['cache-control'], 'no-store')
})

// 7. Audit log.

test('the audit log is a 0600 JSON-lines file that records without tokens, cookies or keystrokes', async () => {
  const cookie = await login(t)
  await call(`${t.base}/?token=wrong-token-for-the-log`)
  await call(`${t.base}/`, {headers: {host: 'rebind.example'}})
  await upgradeStatus(t, '/api/events', {origin: 'http://hijack.example'})
  const created = await api(t, 'POST', '/api/agents', {name: 'audited', cmd: 'cat', dir: box.home})
  assert.equal(created.status, 201)
  assert.equal((await api(t, 'POST', '/api/agents/audited/rename', {name: 'audited2'})).status, 200)
  const viewer = await openSocket(t, terminalPath('audited2'), {headers: {authorization: '', cookie}})
  await viewer.waitForText('\u001b[?1049h')
  viewer.send({type: 'input', data: 'KEYSTROKE-SECRET-42\r'})
  await viewer.waitForText('KEYSTROKE-SECRET-42')
  await viewer.close()
  assert.equal((await api(t, 'DELETE', '/api/agents/audited2')).status, 200)

  const path = join(box.env.MAESTRO_STATE_DIR!, 'audit.log')
  assert.equal(statSync(path).mode & 0o777, 0o600)
  assert.equal(statSync(box.env.MAESTRO_STATE_DIR!).mode & 0o777, 0o700)
  await waitFor(() => auditLines().some((entry) => entry.event === 'socket_close' && entry.agent === 'audited2'), 3000, 'socket_close')
  const text = readFileSync(path, 'utf8')
  for (const secret of [t.token, cookie.split('=')[1], 'KEYSTROKE-SECRET', 'wrong-token-for-the-log']) assert.ok(!text.includes(secret), secret)
  const entries = auditLines()
  const has = (expected: Record<string, unknown>) =>
    assert.ok(
      entries.some((entry) => Object.entries(expected).every(([key, value]) => entry[key] === value)),
      `no entry like ${JSON.stringify(expected)}`,
    )
  has({event: 'start', host: 'localhost', port: t.port, tls: false, readonly: false})
  has({event: 'stop'})
  has({event: 'auth_ok', via: 'bearer', path: '/api/agents', method: 'POST'})
  for (const reason of ['no credentials', 'rate limited', 'too many clients', 'malformed url']) has({event: 'refused', reason})
  has({event: 'auth_ok', via: 'token', address: '127.0.0.1'})
  has({event: 'auth_failed', via: 'token', address: '127.0.0.1'})
  has({event: 'refused', reason: 'host', value: 'rebind.example', status: 403})
  has({event: 'refused', reason: 'origin', value: 'http://hijack.example', status: 403})
  has({event: 'socket_open', kind: 'terminal', agent: 'audited2'})
  has({event: 'socket_close', kind: 'terminal', agent: 'audited2', code: 1005})
  has({event: 'agent_create', name: 'audited'})
  has({event: 'agent_rename', from: 'audited', to: 'audited2'})
  has({event: 'agent_kill', name: 'audited2'})
  for (const entry of entries) assert.ok(typeof entry.time === 'string' && typeof entry.event === 'string')
})

// 8. Read-only.

test('--readonly refuses every change through the API with 403 READ_ONLY', async () => {
  const ro = await serve(box, {readonly: true})
  try {
    assert.deepEqual((await api(ro, 'GET', '/api/session')).json, {
      readonly: true,
      version: JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version,
      storage: {failures: 0, last: null},
    })
    const attempts = [
      await api(ro, 'POST', '/api/agents', {name: 'nope', cmd: 'cat'}),
      await api(ro, 'DELETE', '/api/agents/sec'),
      await api(ro, 'POST', '/api/agents/sec/rename', {name: 'other'}),
      await api(ro, 'PUT', '/api/agents/sec/note', {text: 'x', revision: 0}),
    ]
    for (const reply of attempts) {
      assert.equal(reply.status, 403)
      assert.equal(reply.json.error.code, 'READ_ONLY')
    }
    assert.ok((await api(ro, 'GET', '/api/agents')).json.some((agent: {name: string}) => agent.name === 'sec'))
    assert.ok(auditLines().some((entry) => entry.event === 'refused' && entry.reason === 'read-only' && entry.method === 'DELETE'))
    assert.equal((await api(ro, 'GET', '/api/agents/sec/note')).json.text, '')
  } finally {
    await ro.server.close()
  }
})
