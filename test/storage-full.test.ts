import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, startAgent} from './cli-helpers.js'
import {sandbox, waitFor} from './helpers.js'
import {call, serveChild} from './server-helpers.js'
import {openPage, screenshotPath} from './web-helpers.js'

const box = sandbox('storage')
const full = join(box.home, 'full')
let mounted = false

/** A real full disk: a tmpfs of 64 KB, filled to the last block. Needs root (these machines have it). */
before(async () => {
  await startAgent(box, 'keeper')
  mkdirSync(full)
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k,mode=0700', 'tmpfs', full], {stdio: 'ignore'})
    mounted = true
  } catch {
    return
  }
  mkdirSync(join(full, 'config'), {mode: 0o700})
  mkdirSync(join(full, 'state'), {mode: 0o700})
  writeFileSync(settingsOnFullDisk, kept, {mode: 0o600})
  try {
    writeFileSync(join(full, 'filler'), Buffer.alloc(1024 * 1024))
  } catch {
    // ENOSPC: the disk is full now, which is the point
  }
})
after(() => {
  if (mounted) execFileSync('umount', ['-l', full])
  box.cleanup()
})

const onFullDisk = {MAESTRO_CONFIG_DIR: join(full, 'config'), MAESTRO_STATE_DIR: join(full, 'state')}
const settingsOnFullDisk = join(full, 'config', 'settings.json')
const kept = '{\n  "defaultCommand": "kept"\n}\n'

test('a full config disk is one STORAGE_FAILED line with the errno, and --json has code, message and exitCode', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (not root): the full-disk cases need one')
  const human = await box.cli(['note', 'keeper', 'x'.repeat(4096)], {env: onFullDisk})
  assertHumanError(human, 'STORAGE_FAILED', 1, /ENOSPC: no space left on device/)
  const error = assertJsonError(await box.cli(['note', 'keeper', 'x'.repeat(4096), '--json'], {env: onFullDisk}), 'STORAGE_FAILED', 1)
  assert.equal((error as unknown as {errno: string}).errno, 'ENOSPC')
})

test('ls with its state directory on a full disk lists every agent, in its human and --json forms', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (not root): the full-disk cases need one')
  // ls asks tmux for the list before oclif has loaded, into a file in the state directory; on a
  // full disk tmux writes nothing there and still exits 0.
  const running = box.tmux(['list-sessions', '-F', '#{session_name}']).split('\n').filter((name) => name && !name.startsWith('_maestro-'))
  assert.ok(running.includes('keeper'))
  const listed = parseJson(await box.cli(['ls', '--json'], {env: onFullDisk})) as Array<{name: string; state: string}>
  assert.deepEqual(listed.map((agent) => agent.name).sort(), running.sort())
  const human = await box.cli(['ls'], {env: onFullDisk})
  assert.equal(human.code, 0, human.stderr)
  assert.match(human.stdout, /^keeper\s+\S+/m)
})

test('a setting changed on a full disk is STORAGE_FAILED with the errno, and the settings stay as they were', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (not root): the full-disk cases need one')
  const human = await box.cli(['config', 'defaultCommand', 'y'.repeat(8192)], {env: onFullDisk})
  assertHumanError(human, 'STORAGE_FAILED', 1, /ENOSPC: no space left on device/)
  const error = assertJsonError(await box.cli(['config', 'sessionDays', '7', '--json'], {env: onFullDisk}), 'STORAGE_FAILED', 1)
  assert.equal((error as unknown as {errno: string}).errno, 'ENOSPC')
  assert.equal(readFileSync(settingsOnFullDisk, 'utf8'), kept)
  assert.equal((await box.cli(['config', 'defaultCommand'], {env: onFullDisk})).stdout, 'defaultCommand = kept\n')
  assert.deepEqual(readdirSync(join(full, 'config')).filter((name) => name.startsWith('settings.json.')), [], 'no lock or temporary file is left')
})

test('a config directory under a file is STORAGE_FAILED (ENOTDIR), not a stack trace', async () => {
  const file = join(box.home, 'plain-file')
  writeFileSync(file, '')
  const result = await box.cli(['note', 'keeper', 'text', '--json'], {env: {MAESTRO_CONFIG_DIR: join(file, 'config')}})
  const error = assertJsonError(result, 'STORAGE_FAILED', 1)
  assert.match(error.message, /ENOTDIR/)
})

test('an unknown command is UNKNOWN_COMMAND, exit 2', async () => {
  assertHumanError(await box.cli(['frobnicate']), 'UNKNOWN_COMMAND', 2, /"frobnicate" is not a maestro command/)
  assertJsonError(await box.cli(['frobnicate', '--json']), 'UNKNOWN_COMMAND', 2)
})

test('serve keeps serving on a full state disk: failures are counted, reported once on stderr and shown to the page', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (not root): the full-disk cases need one')
  const {child, stderr, t: server} = await serveChild(box, [], onFullDisk)
  try {
    const headers = {authorization: `Bearer ${server.token}`}
    // Every request is audited, and every audit write fails: far more than the ~27 that crashed it.
    for (let index = 0; index < 60; index++) assert.equal((await call(`${server.base}/api/agents`, {headers})).status, 200)
    const session = JSON.parse((await call(`${server.base}/api/session`, {headers})).body)
    assert.ok(session.storage.failures >= 60, JSON.stringify(session))
    assert.match(session.storage.last, /ENOSPC/)
    assert.equal(child.exitCode, null, 'the server is still running')
    const reports = stderr().split('\n').filter((line) => line.includes('[STORAGE_FAILED]'))
    assert.equal(reports.length, 1, stderr())
    assert.match(reports[0], /(session secret|audit log).*ENOSPC/)
    const listed = parseJson({code: 0, stdout: (await call(`${server.base}/api/agents`, {headers})).body, stderr: ''})
    assert.ok(listed.some((agent: {name: string}) => agent.name === 'keeper'))
  } finally {
    child.kill('SIGTERM')
    await waitFor(() => child.exitCode !== null || child.signalCode !== null, 10_000, 'serve to stop')
  }
})

test('a kill that cannot write its archive on a full disk leaves the agent running, its note kept and no partial archive folder', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (not root): the full-disk cases need one')
  await startAgent(box, 'spared', `sh -c 'seq 1 2000; exec sleep 1000'`, ['--note', 'keep me'])
  await waitFor(async () => (await box.cli(['capture', 'spared'])).stdout.includes('2000'), 10_000, 'spared output')
  const fullState = {MAESTRO_STATE_DIR: join(full, 'state')}
  const result = await box.cli(['kill', 'spared', '--json'], {env: fullState})
  const error = assertJsonError(result, 'STORAGE_FAILED', 1)
  assert.match(error.message, /ENOSPC/)
  assert.ok(box.tmux(['list-sessions', '-F', '#{session_name}']).split('\n').includes('spared'), 'the agent still runs')
  assert.equal((await box.cli(['note', 'spared'])).stdout, 'keep me\n')
  const archive = join(full, 'state', 'archive')
  assert.deepEqual(existsSync(archive) ? readdirSync(archive) : [], [], 'nothing of the failed archive is left')
  assert.equal((await box.cli(['kill', 'spared'])).code, 0)
})

test('doctor reports a full config and state disk, with the errno and the fix', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (not root): the full-disk cases need one')
  const [human, json] = await Promise.all([box.cli(['doctor'], {env: onFullDisk}), box.cli(['doctor', '--json'], {env: onFullDisk})])
  assert.equal(human.code, 1)
  for (const [name, dir] of [['config directory', onFullDisk.MAESTRO_CONFIG_DIR], ['state directory', onFullDisk.MAESTRO_STATE_DIR]]) {
    assert.match(human.stdout, new RegExp(`^${name}\\s+FAIL\\s+${dir} cannot be written: ENOSPC: no space left on device.*; fix: free space on the disk of ${dir}$`, 'm'))
  }
  assert.equal(json.code, 1)
  assert.equal(parseJson(json).ok, false)
  for (const dir of [onFullDisk.MAESTRO_CONFIG_DIR, onFullDisk.MAESTRO_STATE_DIR]) assert.deepEqual(readdirSync(dir).filter((name) => name.includes('doctor')), [], 'the probe leaves nothing behind')
})

test('the page shows a banner while the server cannot write to its full disk and while the notes file is corrupt; the notes line goes once it is repaired', async (t) => {
  if (!mounted) return t.skip('cannot mount a tmpfs here (not root): the full-disk cases need one')
  const config = join(box.home, 'corrupt-config')
  mkdirSync(config, {mode: 0o700})
  const notes = join(config, 'notes.json')
  writeFileSync(notes, '{"version": 1, "notes": {"keeper": ')
  writeFileSync(`${notes}.last-good`, '{"version": 1, "notes": {"keeper": {"text": "kept", "revision": 1, "updatedAt": "2026-12-02T00:00:00.000Z"}}}\n')
  const env = {...box.env, MAESTRO_CONFIG_DIR: config, MAESTRO_STATE_DIR: join(full, 'state')}
  const session = await openPage(env)
  try {
    const {page} = session
    const storage = page.locator('.health .health-storage')
    const unavailable = page.locator('.health .health-notes')
    await storage.waitFor({state: 'visible', timeout: 20_000})
    await unavailable.waitFor({state: 'visible', timeout: 20_000})
    assert.match(await storage.innerText(), /^maestro serve could not write to its disk \((once|\d+ times); last: (audit log|server address)[^)]*\)\. It keeps running; maestro doctor says what to fix\.$/)
    assert.equal(await unavailable.innerText(), `Notes are unavailable and cannot be saved: notes file ${notes} is not valid; fix or move it aside (nothing was changed); the last good version is ${notes}.last-good`)
    await page.screenshot({path: screenshotPath('health-banner.png')})

    copyFileSync(`${notes}.last-good`, notes)
    // A new session makes the server read the agents, and the notes with them, again.
    box.tmux(['new-session', '-d', '-s', 'after-repair', 'sleep 1000'])
    await unavailable.waitFor({state: 'hidden', timeout: 20_000})
    assert.equal(await storage.isVisible(), true, 'the disk is still full')
  } finally {
    await session.close()
    box.tmux(['kill-session', '-t', '=after-repair'])
  }
})
