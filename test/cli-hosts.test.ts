import assert from 'node:assert/strict'
import {existsSync, readFileSync, readdirSync, statSync} from 'node:fs'
import {createServer, type Socket} from 'node:net'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {assertHumanError, assertJsonError, parseJson} from './cli-helpers.js'
import {sandbox, waitFor} from './helpers.js'
import {HOSTILE} from './hostile.js'
import {type SshWorld, freePort, startSshWorld} from './ssh-helpers.js'

const box = sandbox('hosts')
let world: SshWorld
/** A port that accepts connections and never says a word, like a host that hangs. */
const silent = createServer((socket: Socket) => socket.on('error', () => undefined))
let env: NodeJS.ProcessEnv

before(async () => {
  world = await startSshWorld(2)
  env = {MAESTRO_SSH_CONFIG: world.config}
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
})

after(async () => {
  silent.close()
  await world?.stop()
  box.cleanup()
})

const cli = (args: string[]) => box.cli(args, {env})

async function ok(args: string[]): Promise<string> {
  const result = await cli(args)
  assert.equal(result.code, 0, `maestro ${args.join(' ')}: ${result.stderr}`)
  return result.stdout
}

interface ListedAgent {
  id: string
  host: string | null
  name: string
  state: string
  exitCode: number | null
  dir: string
  note: string
}

test('host add, ls, check and rm, each with --json; the hosts file is private', async () => {
  const [one, two] = world.hosts
  // An alias of the ssh config, and a user@address with --port and --identity.
  assert.deepEqual(parseJson(await cli(['host', 'add', 'one', one.alias, '--json'])), {name: 'one', dest: one.alias})
  const added = parseJson(await cli(['host', 'add', 'two', `${two.user}@127.0.0.1`, '--port', String(world.port), '--identity', world.identity, '--json']))
  assert.deepEqual(added, {name: 'two', dest: `${two.user}@127.0.0.1`, port: world.port, identity: world.identity})
  assert.equal(statSync(join(box.home, 'config', 'hosts.json')).mode & 0o777, 0o600)

  const listed = parseJson<{name: string; reachable: boolean; tmux: string; agents: number; error: string | null}[]>(await cli(['host', 'ls', '--json']))
  assert.deepEqual(
    listed.map(({name, reachable, agents, error}) => ({name, reachable, agents, error})),
    [
      {name: 'one', reachable: true, agents: 0, error: null},
      {name: 'two', reachable: true, agents: 0, error: null},
    ],
  )
  assert.match(listed[0].tmux, /^tmux \d/)
  assert.match(await ok(['host', 'ls']), /^one\s+test-\S+\s+yes\s+tmux \S+\s+0/m)

  const check = parseJson<{ok: boolean; checks: {name: string; ok: boolean}[]}>(await cli(['host', 'check', 'two', '--json']))
  assert.deepEqual(check.checks.map(({name, ok}) => [name, ok]), [['ssh', true], ['tmux', true]])
  assert.equal(check.ok, true)

  assertJsonError(await cli(['host', 'add', 'one', 'elsewhere', '--json']), 'HOST_EXISTS', 1)
  assertHumanError(await cli(['host', 'rm', 'nowhere']), 'HOST_NOT_FOUND', 1, /maestro host ls/)
  await ok(['host', 'add', 'spare', one.alias])
  assert.deepEqual(parseJson(await cli(['host', 'rm', 'spare', '--json'])), {name: 'spare', dest: one.alias})
  assert.deepEqual(parseJson<{name: string}[]>(await cli(['host', 'ls', '--json'])).map(({name}) => name), ['one', 'two'])
})

test('host add refuses what ssh would read as an option or a shell as more words', async () => {
  for (const dest of ['-oProxyCommand=touch /tmp/maestro-pwned', 'a b', 'h;id', "h'", '$(id)@h', 'h\nx']) {
    assertHumanError(await cli(['host', 'add', 'bad', '--', dest]), 'INVALID_ARGUMENT', 2, /invalid ssh destination/)
  }
  assertHumanError(await cli(['host', 'add', 'bad:name', 'h']), 'INVALID_NAME', 2)
  assertHumanError(await cli(['host', 'add', 'bad', 'h', '--identity', '/nonexistent/key']), 'INVALID_ARGUMENT', 2, /identity file/)
  assertHumanError(await cli(['host', 'add', 'bad', 'h', '--port', '70000']), 'INVALID_ARGUMENT', 2)
  assert.ok(!parseJson<{name: string}[]>(await cli(['host', 'ls', '--json'])).some(({name}) => name === 'bad'))
})

test('host check says what to fix: a key the host refuses, a closed port', async () => {
  const [one] = world.hosts
  // sshd lets in only the test hosts' users.
  await ok(['host', 'add', 'nokey', 'nobody@127.0.0.1', '--port', String(world.port)])
  await ok(['host', 'add', 'closed', `${one.user}@127.0.0.1`, '--port', String(await freePort())])
  try {
    const refused = await cli(['host', 'check', 'nokey'])
    assert.equal(refused.code, 1)
    assert.match(refused.stdout, /^ssh\s+FAIL\s+.*Permission denied.*fix: /m)
    const check = parseJson<{ok: boolean; checks: {name: string; ok: boolean; fix?: string}[]}>(await cli(['host', 'check', 'closed', '--json']))
    assert.equal(check.ok, false)
    assert.match(check.checks[0].fix ?? '', /sshd runs/)
  } finally {
    await cli(['host', 'rm', 'nokey'])
    await cli(['host', 'rm', 'closed'])
  }
})

test('a remote agent runs as the remote user on its own tmux server, and every command takes HOST:NAME', async () => {
  const [one] = world.hosts
  const started = parseJson<ListedAgent>(await cli(['new', 'one:api', '--cmd', 'id -un; exec sleep 1000', '--note', 'remote note', '--json']))
  assert.deepEqual([started.id, started.host, started.name, started.dir], ['one:api', 'one', 'api', one.home])
  // Asked of tmux itself, as the host's user: maestro's own server there, with maestro's options.
  assert.equal(world.tmuxAs(one.user, ['show-options', '-v', '-t', '=api:', '@maestro-dir']).trim(), one.home)
  await waitFor(async () => (await ok(['capture', 'one:api'])).includes(one.user), 10_000, 'the remote user name on the screen')

  const listed = parseJson<ListedAgent[]>(await cli(['ls', '--json'])).find(({id}) => id === 'one:api')
  assert.deepEqual([listed?.host, listed?.name, listed?.note], ['one', 'api', 'remote note'])
  assert.match(await ok(['ls']), /^HOST\s+NAME\s+STATE/)
  assert.match(await ok(['ls']), /^one\s+api\s+/m)

  await ok(['note', 'one:api', '--append', 'second line'])
  assert.match(await ok(['note', 'one:api']), /remote note\n\[.+\] second line/)
  // Kept on this machine, under the agent's id.
  assert.match(readFileSync(join(box.home, 'config', 'notes.json'), 'utf8'), /"one:api"/)

  assert.equal(parseJson<ListedAgent>(await cli(['rename', 'one:api', 'one:web', '--json'])).id, 'one:web')
  assertHumanError(await cli(['rename', 'one:web', 'two:web']), 'INVALID_ARGUMENT', 2, /between hosts/)
  assert.match(await ok(['note', 'one:web']), /remote note/)
  assertHumanError(await cli(['send', 'one:api', 'x']), 'AGENT_NOT_FOUND', 1)
  assertHumanError(await cli(['capture', 'nowhere:api']), 'HOST_NOT_FOUND', 1)

  const killed = parseJson<{id: string; archive: string}[]>(await cli(['kill', 'one:web', '--json']))
  assert.equal(killed[0].id, 'one:web')
  assert.ok(killed[0].archive.startsWith(join(box.home, 'state', 'archive')), killed[0].archive)
  assert.match(readFileSync(join(killed[0].archive, 'scrollback.txt'), 'utf8'), new RegExp(one.user))
  assert.match(readFileSync(join(killed[0].archive, 'note.md'), 'utf8'), /second line/)
  assert.deepEqual(world.sessionsOf(one.user), [])
})

test('a remote agent is recorded on its host, and kill brings the recording into the local archive', async () => {
  const [one] = world.hosts
  await ok(['new', 'one:rec', '--cmd', 'printf "first %s\\n" frame; clear; exec cat'])
  const folder = join(one.home, '.local/state/maestro/recordings')
  const casts = await waitFor(() => {
    const files = existsSync(folder) ? readdirSync(folder).filter((file) => file.endsWith('.cast')) : []
    return files.length > 0 ? files : undefined
  }, 10_000, 'the recording on the host')
  assert.equal(statSync(folder).mode & 0o777, 0o700)
  assert.equal(statSync(join(folder, casts[0])).mode & 0o777, 0o600)
  // Killed as soon as the typed line is on the screen: kill waits for the recorder's last write.
  await ok(['send', 'one:rec', 'last line typed'])
  await waitFor(async () => (await ok(['capture', 'one:rec'])).includes('last line typed'), 10_000, 'the typed line')
  const [killed] = parseJson<{archive: string; recording: string | null}[]>(await cli(['kill', 'one:rec', '--json']))
  assert.equal(killed.recording, join(killed.archive, 'recording.cast'))
  const cast = readFileSync(killed.recording!, 'utf8')
  assert.match(cast.split('\n')[0], /^\{"version":2,"width":\d+,"height":\d+,"timestamp":\d+\}$/)
  // Cleared from the screen, so only the recording holds it.
  assert.ok(cast.includes('first frame'), cast)
  assert.doesNotMatch(readFileSync(join(killed.archive, 'scrollback.txt'), 'utf8'), /first frame/)
  assert.ok(cast.includes('last line typed'), cast)
  assert.equal(statSync(killed.recording!).mode & 0o777, 0o600)
  assert.deepEqual(readdirSync(folder), [])
  assert.deepEqual(parseJson<{name: string; recording: boolean}[]>(await cli(['archive', 'ls', 'one:rec', '--json'])).map(({recording}) => recording), [true])
})

test('hostile text and directories cross the remote shell literally', async () => {
  const [, two] = world.hosts
  await ok(['new', 'two:cat', '--cmd', 'cat'])
  for (const text of HOSTILE.filter((word) => word.trim() && !/[\r\n\u001B]/.test(word))) {
    await ok(['send', 'two:cat', '--', text])
  }
  const expected = HOSTILE.filter((word) => word.trim() && !/[\r\n\u001B]/.test(word)).at(-1)!
  await waitFor(async () => (await ok(['capture', 'two:cat'])).includes(expected), 10_000, 'the last line typed')
  const screen = await ok(['capture', 'two:cat'])
  for (const word of ['$(touch /tmp/maestro-pwned)', "it's", '#(touch /tmp/maestro-pwned)', 'a; touch /tmp/maestro-pwned', '-n']) {
    assert.ok(screen.includes(word), `${word} arrives as typed`)
  }
  assert.equal(existsSync(join(two.home, 'maestro-pwned')), false)
  assert.equal(existsSync('/tmp/maestro-pwned'), false)

  // A directory with quotes and a command substitution in its name, relative to the remote home.
  const odd = "it's $(id) dir"
  world.tmuxAs(two.user, ['start-server', ';', 'run-shell', `mkdir -p '${two.home}/it'"'"'s $(id) dir'`])
  const agent = parseJson<ListedAgent>(await cli(['new', 'two:odd', '--dir', odd, '--cmd', 'pwd; exec sleep 1000', '--json']))
  assert.equal(agent.dir, join(two.home, odd))
  assertHumanError(await cli(['new', 'two:nodir', '--dir', 'no/such/dir']), 'DIR_NOT_FOUND', 2, /on host "two"/)
  await ok(['kill', 'two:cat', 'two:odd'])
})

test('a remote agent that ends keeps its exit status, through the same wrapper', async () => {
  await ok(['new', 'one:quits', '--cmd', 'sleep 0.5; exit 3'])
  const agent = await waitFor(
    async () => parseJson<ListedAgent[]>(await cli(['ls', '--json'])).find(({id, state}) => id === 'one:quits' && state === 'exited'),
    15_000,
    'the agent to exit',
  )
  assert.equal(agent.exitCode, 3)
  assertHumanError(await cli(['send', 'one:quits', 'hello']), 'AGENT_EXITED', 1)
  await ok(['kill', 'one:quits'])
})

test('ls lists local and reachable agents when a host is down or hangs, and names the host on stderr', async () => {
  await ok(['new', 'here', '--cmd', 'sleep 1000'])
  await ok(['new', 'one:there', '--cmd', 'sleep 1000'])
  await ok(['host', 'add', 'down', `${world.hosts[0].user}@127.0.0.1`, '--port', String(await freePort())])
  await ok(['host', 'add', 'hangs', `${world.hosts[0].user}@127.0.0.1`, '--port', String((silent.address() as {port: number}).port)])
  const result = await cli(['ls', '--json'])
  assert.equal(result.code, 0, result.stderr)
  assert.deepEqual(parseJson<ListedAgent[]>(result).map(({id}) => id), ['here', 'one:there'])
  assert.match(result.stderr, /^warning: host down is unreachable: .+$/m)
  assert.match(result.stderr, /^warning: host hangs is unreachable: .+$/m)
  const hosts = parseJson<{name: string; reachable: boolean}[]>(await cli(['host', 'ls', '--json']))
  assert.deepEqual(hosts.filter(({reachable}) => !reachable).map(({name}) => name), ['down', 'hangs'])
  await ok(['host', 'rm', 'down'])
  await ok(['host', 'rm', 'hangs'])

  // kill-all leaves other hosts alone unless told otherwise.
  await ok(['kill-all', '--yes'])
  assert.deepEqual(parseJson<ListedAgent[]>(await cli(['ls', '--json'])).map(({id}) => id), ['one:there'])
  const killed = parseJson<{id: string}[]>(await cli(['kill-all', '--all-hosts', '--yes', '--json']))
  assert.deepEqual(killed.map(({id}) => id), ['one:there'])
  assert.deepEqual(parseJson(await cli(['ls', '--json'])), [])
  assert.ok(readdirSync(join(box.home, 'state', 'archive')).includes('one:there'))
})
