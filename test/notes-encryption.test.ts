// Notes encrypted at rest (config encryptNotes): what an attacker who reads the disk finds, and
// what the user without the passphrase, with a wrong one, or with twenty writers at once gets.
import assert from 'node:assert/strict'
import {createHash} from 'node:crypto'
import {mkdirSync, readFileSync, readdirSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {sandbox, waitFor} from './helpers.js'
import {api, exitOf, serveChild} from './server-helpers.js'

const box = sandbox('notes-crypt')
after(() => box.cleanup())

const PASS = 'correct horse battery'
const withPass: {env: NodeJS.ProcessEnv} = {env: {MAESTRO_PASSPHRASE: PASS}}
const withWrong = {env: {MAESTRO_PASSPHRASE: 'not the passphrase'}}
const config = box.env.MAESTRO_CONFIG_DIR!
const state = box.env.MAESTRO_STATE_DIR!

async function ok(args: string[], options: {env?: NodeJS.ProcessEnv} = {}) {
  const result = await box.cli(args, options)
  assert.equal(result.code, 0, `maestro ${args.join(' ')}: ${result.stderr}`)
  return result
}

/** Every file under the config and state directories, as bytes. */
function files(): Map<string, Buffer> {
  const found = new Map<string, Buffer>()
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir)) {
      const path = join(dir, entry)
      if (statSync(path).isDirectory()) walk(path)
      else found.set(path, readFileSync(path))
    }
  }
  walk(config)
  walk(state)
  return found
}

function assertNowhere(secrets: string[]): void {
  for (const [path, bytes] of files()) {
    for (const secret of secrets) assert.ok(!bytes.includes(secret), `"${secret}" is readable in ${path}`)
  }
}

/**
 * A digest of every file that holds notes: notes.json and what lies beside it, and the archives
 * (ls and the server keep state of their own in the state directory).
 */
function fingerprint(): string {
  const hash = createHash('sha256')
  const kept = [...files()].filter(([path]) => path.startsWith(config) || path.startsWith(join(state, 'archive')))
  for (const [path, bytes] of kept.sort(([a], [b]) => a.localeCompare(b))) hash.update(path).update(bytes)
  return hash.digest('hex')
}

const noteOf = async (name: string, options = withPass) => JSON.parse((await ok(['note', name, '--json'], options)).stdout).text

test('with encryptNotes on no note is readable on disk: notes, last-good copy, archives, a dead writer’s temp file, later saves', async () => {
  await ok(['new', 'alpha', '--cmd', 'sleep 1000', '--dir', box.home, '--note', 'plain-alpha-note'])
  await ok(['note', 'alpha', '--append', 'plain-alpha-line'])
  await ok(['new', 'gone', '--cmd', 'sleep 1000', '--dir', box.home, '--note', 'plain-gone-note'])
  await ok(['kill', 'gone'])
  // What a writer killed between writing its temporary file and renaming it leaves behind.
  writeFileSync(join(config, `notes.json.${process.pid}.0badf00d.tmp`), JSON.stringify({version: 1, notes: {alpha: {text: 'plain-leftover-note'}}}))
  // And what a kill that died while writing its archive leaves: a hidden draft holding the note.
  const draft = join(state, 'archive', 'gone', '.2026-01-01T00-00-00.000Z.partial')
  mkdirSync(draft, {recursive: true, mode: 0o700})
  writeFileSync(join(draft, 'note.md'), 'plain-draft-note')
  const before = ['plain-alpha-note', 'plain-alpha-line', 'plain-gone-note', 'plain-leftover-note', 'plain-draft-note']
  assert.ok([...files().values()].some((bytes) => bytes.includes('plain-gone-note')), 'the archive held the note in clear before')

  const on = await ok(['config', 'encryptNotes', 'on', '--json'], withPass)
  assert.equal(JSON.parse(on.stdout).encryptNotes, 'on')
  assertNowhere(before)
  const stored = JSON.parse(readFileSync(join(config, 'notes.json'), 'utf8'))
  assert.equal(stored.version, 2)
  assert.deepEqual([stored.sealing.cipher, stored.sealing.kdf], ['aes-256-gcm', 'scrypt'])

  // Every way a note is written afterwards keeps it sealed.
  await ok(['note', 'alpha', '--append', 'sealed-append'], withPass)
  await ok(['new', 'beta', '--cmd', 'sleep 1000', '--dir', box.home, '--note', 'sealed-new-note'], withPass)
  await ok(['note', 'beta', 'sealed-replaced'], withPass)
  await ok(['rename', 'beta', 'gamma'])
  await ok(['new', 'doomed', '--cmd', 'sleep 1000', '--dir', box.home, '--note', 'sealed-killed-note'], withPass)
  await ok(['kill', 'doomed'])
  assertNowhere([...before, 'sealed-append', 'sealed-new-note', 'sealed-replaced', 'sealed-killed-note'])

  const shown = await ok(['archive', 'show', 'doomed'], withPass)
  assert.match(shown.stdout, /--- note ---\nsealed-killed-note\n/)
  const refused = await box.cli(['archive', 'show', 'doomed'])
  assert.equal(refused.code, 1)
  assert.match(refused.stderr, /\[NOTES_LOCKED\]/)
  assert.match(await noteOf('alpha'), /^plain-alpha-note\n\[.*\] plain-alpha-line\n\[.*\] sealed-append$/)
  assert.equal(await noteOf('gamma'), 'sealed-replaced')
})

test('without the passphrase notes are locked: reading fails with NOTES_LOCKED, ls shows them locked, nothing is overwritten', async () => {
  const disk = fingerprint()
  const read = await box.cli(['note', 'alpha'])
  assert.equal(read.code, 1)
  assert.match(read.stderr, /^Error: the notes are encrypted: set MAESTRO_PASSPHRASE.*\[NOTES_LOCKED\]\n$/)
  const write = await box.cli(['note', 'alpha', 'overwrite-attempt'])
  assert.equal(write.code, 1)
  assert.match(write.stderr, /\[NOTES_LOCKED\]/)
  assert.equal((await box.cli(['note', 'alpha', '--append', 'x'])).code, 1)
  assert.equal((await box.cli(['new', 'delta', '--cmd', 'sleep 1000', '--note', 'y'])).code, 1)
  assert.equal((await box.cli(['config', 'encryptNotes', 'off'])).code, 1)

  const listed = await ok(['ls'])
  assert.match(listed.stdout, /^alpha .*\(locked\)$/m)
  const agents = JSON.parse((await ok(['ls', '--json'])).stdout)
  assert.deepEqual(agents.map((agent: {name: string; note: string; noteLocked: boolean}) => [agent.name, agent.note, agent.noteLocked]), [
    ['alpha', '', true],
    ['gamma', '', true],
  ])
  assert.equal(fingerprint(), disk, 'a file changed without the passphrase')
})

test('a wrong passphrase says so and changes nothing', async () => {
  const disk = fingerprint()
  for (const args of [['note', 'alpha'], ['note', 'alpha', 'overwrite'], ['note', 'alpha', '--append', 'x'], ['config', 'encryptNotes', 'off'], ['config', 'encryptNotes', 'on']]) {
    const result = await box.cli([...args, '--json'], withWrong)
    assert.equal(result.code, 1, args.join(' '))
    assert.equal(JSON.parse(result.stdout).error.code, 'WRONG_PASSPHRASE', args.join(' '))
  }
  const doctor = JSON.parse((await box.cli(['doctor', '--json'], withWrong)).stdout)
  const notesCheck = doctor.checks.find((check: {name: string}) => check.name === 'notes')
  assert.deepEqual([notesCheck.ok, /WRONG_PASSPHRASE/.test(notesCheck.detail)], [false, true])
  const listed = await box.cli(['ls'], withWrong)
  assert.equal(listed.code, 0)
  assert.match(listed.stderr, /\[WRONG_PASSPHRASE\]/)
  assert.match(listed.stdout, /^alpha .*\(locked\)$/m)
  assert.equal(fingerprint(), disk)
})

test('20 concurrent appends, each its own process, keep all 20 lines encrypted', async () => {
  const results = await Promise.all(Array.from({length: 20}, (_, index) => box.cli(['note', 'gamma', '--append', `concurrent-${index}`], withPass)))
  for (const result of results) assert.equal(result.code, 0, result.stderr)
  const text = await noteOf('gamma')
  for (let index = 0; index < 20; index++) assert.match(text, new RegExp(`\\] concurrent-${index}$`, 'm'))
  assert.equal(text.split('\n').length, 21)
  assertNowhere(['concurrent-'])
})

test('MAESTRO_PASSPHRASE reaches no agent and no tmux server', async () => {
  // A tmux server of its own, started by this command, so it can only have inherited from it.
  const socket = `${box.socket}-env`
  const own = {env: {...withPass.env, MAESTRO_TMUX_SOCKET: socket}}
  try {
    await ok(['new', 'envcheck', '--cmd', 'sleep 1000', '--dir', box.home, '--note', 'n'], own)
    const {execFileSync} = await import('node:child_process')
    const pids = execFileSync('tmux', ['-L', socket, 'display-message', '-p', '-t', '=envcheck:', '#{pid} #{pane_pid}'], {encoding: 'utf8'}).trim().split(' ')
    for (const pid of pids) assert.ok(!readFileSync(`/proc/${pid}/environ`, 'utf8').includes('MAESTRO_PASSPHRASE'), `process ${pid} inherited the passphrase`)
  } finally {
    const {killTmuxServer} = await import('./helpers.js')
    killTmuxServer(socket)
  }
})

test('serve: with the passphrase notes are read and saved sealed; without it they are locked (423); a wrong one stops the start', async () => {
  const wrong = await serveChild(box, [], withWrong.env).then(
    () => assert.fail('serve started with a wrong passphrase'),
    (error: Error) => error.message,
  )
  assert.match(wrong, /exited with 1: Error: the passphrase does not open the notes.*\[WRONG_PASSPHRASE\]/)

  const unlocked = await serveChild(box, [], withPass.env)
  try {
    const note = await api(unlocked.t, 'GET', '/api/agents/alpha/note')
    assert.match(note.json.text, /^plain-alpha-note/)
    assert.equal((await api(unlocked.t, 'PUT', '/api/agents/alpha/note', {text: 'saved-from-the-page', revision: note.json.revision})).status, 200)
  } finally {
    unlocked.child.kill('SIGTERM')
    await exitOf(unlocked.child)
  }
  assertNowhere(['saved-from-the-page'])
  assert.equal(await noteOf('alpha'), 'saved-from-the-page')

  const disk = fingerprint()
  const locked = await serveChild(box)
  try {
    assert.match(locked.stderr(), /WARNING: notes are encrypted and no passphrase was given/)
    const read = await api(locked.t, 'GET', '/api/agents/alpha/note')
    assert.deepEqual([read.status, read.json.error.code], [423, 'NOTES_LOCKED'])
    const write = await api(locked.t, 'PUT', '/api/agents/alpha/note', {text: 'overwrite', revision: 99})
    assert.deepEqual([write.status, write.json.error.code], [423, 'NOTES_LOCKED'])
    const agents = (await api(locked.t, 'GET', '/api/agents')).json
    assert.deepEqual(agents.find((agent: {name: string}) => agent.name === 'alpha').noteLocked, true)
  } finally {
    locked.child.kill('SIGTERM')
    await exitOf(locked.child)
  }
  assert.equal(fingerprint(), disk, 'the locked server changed notes or archives')
})

test('the passphrase is asked once on a terminal, without echo', async () => {
  const pane = 'asker'
  box.tmux(['new-session', '-d', '-s', pane, '-x', '120', '-y', '20', '-e', `MAESTRO_CONFIG_DIR=${config}`, '-e', `MAESTRO_STATE_DIR=${state}`, '-e', `MAESTRO_TMUX_SOCKET=${box.socket}`, 'sh'])
  const screen = () => box.tmux(['capture-pane', '-p', '-t', `=${pane}:`])
  box.tmux(['send-keys', '-t', `=${pane}:`, '-l', `${join(process.cwd(), 'bin', 'maestro')} note alpha; echo "exit=$?"`])
  box.tmux(['send-keys', '-t', `=${pane}:`, 'Enter'])
  await waitFor(() => screen().includes('Passphrase for maestro notes:'), 20_000, 'the passphrase prompt')
  box.tmux(['send-keys', '-t', `=${pane}:`, '-l', PASS])
  box.tmux(['send-keys', '-t', `=${pane}:`, 'Enter'])
  await waitFor(() => screen().includes('exit=0'), 20_000, 'the note')
  assert.match(screen(), /saved-from-the-page/)
  assert.ok(!screen().includes(PASS), 'the passphrase was echoed')
  box.tmux(['kill-session', '-t', `=${pane}`])
})

test('turning encryption off decrypts every note and archived note; a second run changes nothing', async () => {
  const off = await ok(['config', 'encryptNotes', 'off', '--json'], withPass)
  assert.equal(JSON.parse(off.stdout).encryptNotes, 'off')
  const all = [...files()].filter(([path]) => !path.includes('audit.log'))
  assert.ok(all.some(([path, bytes]) => path.endsWith('note.md') && bytes.includes('plain-gone-note')))
  assert.ok(all.some(([path, bytes]) => path.endsWith('note.md') && bytes.includes('sealed-killed-note')))
  assert.ok(!all.some(([path]) => path.endsWith('.enc')))
  assert.equal(JSON.parse(readFileSync(join(config, 'notes.json'), 'utf8')).version, 1)
  assert.equal(await noteOf('alpha', {env: {}}), 'saved-from-the-page')
  const disk = fingerprint()
  await ok(['config', 'encryptNotes', 'off'])
  assert.equal(fingerprint(), disk)
})
