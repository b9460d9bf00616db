// Signed in across restarts: session cookies are signed with a secret kept in the state dir.
import assert from 'node:assert/strict'
import {statSync} from 'node:fs'
import {after, test} from 'node:test'

import {Credentials} from '../src/server/auth.js'
import {GrantBook} from '../src/server/grants.js'
import {DEFAULT_SESSION_DAYS, loadSessionSecret, sessionSecretPath} from '../src/server/session.js'
import {sandbox} from './helpers.js'
import {call, exitOf, login, serve, serveChild} from './server-helpers.js'

const box = sandbox('server-session')
after(() => box.cleanup())

const status = async (base: string, cookie: string) => (await call(`${base}/api/agents`, {headers: {cookie}})).status

test('a browser stays signed in across a restart with a new token; --sign-out-all signs it out', async () => {
  const first = await serve(box)
  const cookie = await login(first)
  await first.server.close()
  assert.equal(statSync(sessionSecretPath(box.context.stateDir)).mode & 0o777, 0o600)

  const second = await serve(box, {port: first.port})
  try {
    assert.notEqual(second.token, first.token)
    assert.equal(await status(second.base, cookie), 200)
  } finally {
    await second.server.close()
  }

  const child = await serveChild(box, ['--port', String(first.port), '--sign-out-all'])
  try {
    assert.equal(await status(child.t.base, cookie), 401)
    const fresh = await login(child.t)
    assert.equal(await status(child.t.base, fresh), 200)
  } finally {
    child.child.kill('SIGTERM')
    assert.equal(await exitOf(child.child), 0)
  }
})

test('a session lasts sessionDays (default 30), then is refused', async () => {
  assert.equal(DEFAULT_SESSION_DAYS, 30)
  assert.equal((await box.cli(['config', 'sessionDays', '7'])).code, 0)
  const bad = await box.cli(['config', 'sessionDays', 'soon'])
  assert.equal(bad.code, 2)
  assert.match(bad.stderr, /sessionDays must be a number of days.*\[INVALID_ARGUMENT\]/)
  const t = await serve(box)
  try {
    const reply = await call(`${t.base}/?token=${t.token}`)
    assert.match(String(reply.headers['set-cookie']), /; Max-Age=604800;/)
  } finally {
    await t.server.close()
  }
  assert.equal((await box.cli(['config', 'sessionDays', '--unset'])).code, 0)

  let now = Date.parse('2026-01-01T00:00:00Z')
  const secret = await loadSessionSecret(box.context.stateDir)
  const grants = await GrantBook.open(box.context)
  grants.stop()
  const credentials = new Credentials('a-token-of-enough-length', {port: 1, secure: false, secret, sessionDays: 2, grants, now: () => now})
  const cookie = credentials.setCookie({kind: 'admin'}).split(';')[0]
  assert.deepEqual(credentials.checkCookie(cookie), {kind: 'admin'})
  now += 2 * 86_400_000 - 1000
  assert.deepEqual(credentials.checkCookie(cookie), {kind: 'admin'})
  now += 2000
  assert.equal(credentials.checkCookie(cookie), undefined)
  // A forged expiry breaks the signature.
  const [name, value] = cookie.split('=')
  const forged = `${name}=${(Number.parseInt(value.split('.')[0], 36) + 86_400).toString(36)}.${value.split('.').slice(1).join('.')}`
  assert.equal(credentials.checkCookie(forged), undefined)
})
