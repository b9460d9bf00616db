import assert from 'node:assert/strict'
import {spawn} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join, relative} from 'node:path'
import {after, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson, sessionNames, startAgent} from './cli-helpers.js'
import {sandbox, waitFor} from './helpers.js'

const box = sandbox('kill')
after(() => box.cleanup())

const archiveRoot = join(box.env.MAESTRO_STATE_DIR!, 'archive')
const mode = (path: string) => statSync(path).mode & 0o777

/** Every folder and file under the archive, with its mode, relative to the archive root. */
function archiveModes(): Record<string, number> {
  const modes: Record<string, number> = {}
  const walk = (path: string) => {
    for (const entry of readdirSync(path, {withFileTypes: true})) {
      const full = join(path, entry.name)
      modes[relative(archiveRoot, full)] = mode(full)
      if (entry.isDirectory()) walk(full)
    }
  }
  walk(archiveRoot)
  return modes
}

test('kill-all with no server and no agents has nothing to do and exits 0', async () => {
  const [human, json] = await Promise.all([box.cli(['kill-all']), box.cli(['kill-all', '--json'])])
  assert.equal(human.code, 0, human.stderr)
  assert.equal(human.stdout, 'no agents to kill\n')
  assert.equal(json.code, 0, json.stderr)
  assert.deepEqual(parseJson(json), [])
})

test('kill api ends exactly api, not api-server, and archives its scrollback, note and facts', async () => {
  await startAgent(box, 'api', "sh -c 'echo api printed this; exec sleep 1000'", ['--note', 'owns the orders API'])
  await startAgent(box, 'api-server', 'sleep 1000', ['--note', 'the other one'])
  await waitFor(async () => (await box.cli(['capture', 'api'])).stdout.includes('api printed this'), 5000, 'api output')

  const result = await box.cli(['kill', 'api'])
  assert.equal(result.code, 0, result.stderr)
  const archive = /^killed api; archived to (\S+)\n$/.exec(result.stdout)?.[1]
  assert.ok(archive, result.stdout)
  assert.deepEqual(sessionNames(box), ['api-server'])
  assert.equal((await box.cli(['note', 'api-server'])).stdout, 'the other one\n')

  assert.equal(join(archive, '..', '..'), archiveRoot)
  assert.match(readFileSync(join(archive, 'scrollback.txt'), 'utf8'), /^api printed this$/m)
  assert.equal(readFileSync(join(archive, 'note.md'), 'utf8'), 'owns the orders API')
  const facts = JSON.parse(readFileSync(join(archive, 'agent.json'), 'utf8'))
  assert.equal(facts.name, 'api')
  assert.equal(facts.command, "sh -c 'echo api printed this; exec sleep 1000'")
  assert.equal(facts.dir, process.cwd())
  assert.ok(Math.abs(Date.parse(facts.archivedAt) - Date.now()) < 60_000)
  assert.equal(mode(box.env.MAESTRO_STATE_DIR!), 0o700)
  assert.equal(mode(archiveRoot), 0o700)
  for (const [path, found] of Object.entries(archiveModes())) {
    assert.equal(found, statSync(join(archiveRoot, path)).isDirectory() ? 0o700 : 0o600, path)
  }
})

test('killing the same name twice: the second exits 1 with AGENT_NOT_FOUND', async () => {
  const [human, json] = await Promise.all([box.cli(['kill', 'api']), box.cli(['kill', 'api', '--json'])])
  assertHumanError(human, 'AGENT_NOT_FOUND', 1, /agent "api" not found; nothing was killed/)
  assertJsonError(json, 'AGENT_NOT_FOUND', 1)
  assert.deepEqual(sessionNames(box), ['api-server'])
})

test('new with the name of a killed agent starts with an empty note', async () => {
  await startAgent(box, 'api')
  assert.deepEqual(parseJson(await box.cli(['note', 'api', '--json'])), {id: 'api', host: null, name: 'api', text: '', revision: 0, updatedAt: null})
})

test('kill with one unknown name kills nothing and names it', async () => {
  const result = await box.cli(['kill', 'api', 'ghost', 'api-server'])
  assertHumanError(result, 'AGENT_NOT_FOUND', 1, /agent "ghost" not found; nothing was killed/)
  assert.deepEqual(sessionNames(box), ['api', 'api-server'])
})

test('kill several names with --json returns where each was archived', async () => {
  await startAgent(box, 'worker-1')
  await startAgent(box, 'worker-2')
  const result = await box.cli(['kill', 'worker-1', 'worker-2', '--json'])
  assert.equal(result.code, 0, result.stderr)
  const killed = parseJson<{name: string; archive: string}[]>(result)
  assert.deepEqual(killed.map(({name}) => name), ['worker-1', 'worker-2'])
  for (const {name, archive} of killed) {
    assert.equal(join(archive, '..'), join(archiveRoot, name))
    assert.ok(existsSync(join(archive, 'scrollback.txt')))
  }
  assert.deepEqual(sessionNames(box), ['api', 'api-server'])
})

test('kill-all off a terminal without --yes exits 2 with CONFIRMATION_REQUIRED and kills nothing', async () => {
  const [human, json] = await Promise.all([box.cli(['kill-all']), box.cli(['kill-all', '--json'])])
  assertHumanError(human, 'CONFIRMATION_REQUIRED', 2, /kill-all would end 2 agents \(api, api-server\); pass --yes/)
  assertJsonError(json, 'CONFIRMATION_REQUIRED', 2)
  assert.deepEqual(sessionNames(box), ['api', 'api-server'])
})

test('kill-all --yes archives and ends every agent, with a line for each', async () => {
  const result = await box.cli(['kill-all', '--yes'])
  assert.equal(result.code, 0, result.stderr)
  for (const name of ['api', 'api-server']) {
    const archive = new RegExp(`^killed ${name}; archived to (\\S+)$`, 'm').exec(result.stdout)?.[1]
    assert.ok(archive, result.stdout)
    assert.ok(existsSync(join(archive, 'note.md')))
  }
  assert.deepEqual(sessionNames(box), [])
  const again = await box.cli(['kill-all', '--yes'])
  assert.equal(again.stdout, 'no agents to kill\n')
})

test('kill-all ends every agent it can: one whose archive cannot be written is left running with no archive, and it exits 1 with KILL_INCOMPLETE naming killed and failed', async () => {
  for (const name of ['ka-one', 'ka-stuck', 'ka-two']) await startAgent(box, name)
  // A file where the agent's archive folder should be: its archive cannot be written (ENOTDIR).
  mkdirSync(archiveRoot, {recursive: true})
  writeFileSync(join(archiveRoot, 'ka-stuck'), '')
  try {
    const json = await box.cli(['kill-all', '--yes', '--json'])
    const error = assertJsonError(json, 'KILL_INCOMPLETE', 1) as unknown as {
      message: string
      killed: {name: string; archive: string}[]
      failed: {id: string; host: string | null; name: string; code: string; message: string}[]
    }
    assert.match(error.message, /1 of 3 agents could not be ended, first ka-stuck: .*ENOTDIR/)
    assert.deepEqual(error.killed.map(({name}) => name).sort(), ['ka-one', 'ka-two'])
    for (const {archive} of error.killed) assert.ok(existsSync(join(archive, 'scrollback.txt')), archive)
    assert.deepEqual(error.failed.map(({id, host, name, code}) => ({id, host, name, code})), [{id: 'ka-stuck', host: null, name: 'ka-stuck', code: 'STORAGE_FAILED'}])
    assert.match(error.failed[0].message, /ENOTDIR/)
    assert.deepEqual(sessionNames(box), ['ka-stuck'])
    assert.equal(readFileSync(join(archiveRoot, 'ka-stuck'), 'utf8'), '')

    await startAgent(box, 'ka-three')
    const human = await box.cli(['kill-all', '--yes'])
    assert.equal(human.code, 1)
    assert.match(human.stdout, /^killed ka-three; archived to \S+$/m)
    const [notEnded, summary, ...rest] = human.stderr.trimEnd().split('\n')
    assert.match(notEnded, /^not ended: ka-stuck: could not use the disk: ENOTDIR\b.* \[STORAGE_FAILED\]$/)
    assert.match(summary, /^Error: 1 of 2 agents could not be ended, first ka-stuck: .*; 1 ended and archived \[KILL_INCOMPLETE\]$/)
    assert.deepEqual(rest, [])
    assert.deepEqual(sessionNames(box), ['ka-stuck'])
  } finally {
    rmSync(join(archiveRoot, 'ka-stuck'))
    assert.equal((await box.cli(['kill', 'ka-stuck'])).code, 0)
  }
})

test('kill of several names ends those it can and exits 1 with KILL_INCOMPLETE; kill of one fails with its own error', async () => {
  for (const name of ['kn-one', 'kn-stuck']) await startAgent(box, name)
  mkdirSync(archiveRoot, {recursive: true})
  writeFileSync(join(archiveRoot, 'kn-stuck'), '')
  try {
    const several = assertJsonError(await box.cli(['kill', 'kn-one', 'kn-stuck', '--json']), 'KILL_INCOMPLETE', 1) as unknown as {killed: {name: string}[]; failed: {name: string; code: string}[]}
    assert.deepEqual(several.killed.map(({name}) => name), ['kn-one'])
    assert.deepEqual(several.failed.map(({name, code}) => [name, code]), [['kn-stuck', 'STORAGE_FAILED']])
    assertHumanError(await box.cli(['kill', 'kn-stuck']), 'STORAGE_FAILED', 1, /ENOTDIR/)
    assert.ok(sessionNames(box).includes('kn-stuck'))
  } finally {
    rmSync(join(archiveRoot, 'kn-stuck'))
    assert.equal((await box.cli(['kill', 'kn-stuck'])).code, 0)
  }
})

test('kill-all --yes --json returns the archive of each agent', async () => {
  await startAgent(box, 'solo')
  const result = await box.cli(['kill-all', '--yes', '--json'])
  assert.equal(result.code, 0, result.stderr)
  const [killed] = parseJson<{name: string; archive: string}[]>(result)
  assert.equal(killed.name, 'solo')
  assert.ok(existsSync(join(killed.archive, 'agent.json')))
  assert.deepEqual(sessionNames(box), [])
})

/** Alive as a user would check it: a zombie waiting to be reaped has already ended. */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/s.test(readFileSync(`/proc/${pid}/stat`, 'utf8'))
  } catch {
    return false
  }
}

test('kill ends every process the agent started (SIGHUP and SIGTERM ignored, setsid, nohup, double fork), and no other', async () => {
  assert.equal((await box.cli(['config', 'killGraceSeconds', 'soon'])).code, 2)
  assert.equal((await box.cli(['config', 'killGraceSeconds', '0.3'])).code, 0)
  const dir = join(box.home, 'orphans')
  mkdirSync(dir)
  const script = join(dir, 'start.sh')
  writeFileSync(
    script,
    [
      `cd ${dir}`,
      `sh -c 'trap "" HUP TERM; echo $$ > stubborn; while :; do sleep 1; done' &`,
      'setsid sleep 1002 & echo $! > setsid',
      'nohup sleep 1003 >/dev/null 2>&1 & echo $! > nohup',
      '(setsid sleep 1004 & echo $! > daemon) &',
      'exec sleep 1001',
    ].join('\n'),
  )
  const outsider = spawn('sleep', ['1002'], {detached: true, stdio: 'ignore'})
  after(() => outsider.kill('SIGKILL'))
  await startAgent(box, 'spawner', `sh ${script}`)
  const files = ['stubborn', 'setsid', 'nohup', 'daemon']
  const pids = await waitFor(
    () => files.every((file) => existsSync(join(dir, file)) && readFileSync(join(dir, file), 'utf8').endsWith('\n')) && files.map((file) => Number(readFileSync(join(dir, file), 'utf8'))),
    10_000,
    'the agent starting its processes',
  )
  // A failing kill must not leave them running for the rest of the suite.
  after(() => pids.forEach((pid) => running(pid) && process.kill(pid, 'SIGKILL')))
  for (const pid of pids) assert.ok(running(pid), `process ${pid} runs before the kill`)

  const result = await box.cli(['kill', 'spawner', '--json'])
  assert.equal(result.code, 0, result.stderr)
  const [killed] = parseJson(result)
  for (const pid of pids) assert.equal(running(pid), false, `process ${pid} still runs after kill`)
  // The pane's shell, sleep 1001, the stubborn loop (and its sleep) and the three children.
  assert.ok(killed.processesEnded >= 7, `processesEnded ${killed.processesEnded}`)
  assert.ok(running(outsider.pid!), 'a sleep outside the agent was killed')
})
