import assert from 'node:assert/strict'
import {execFile, execFileSync, spawn} from 'node:child_process'
import {mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join, resolve} from 'node:path'
import {after, before, test} from 'node:test'

import {startAgent} from './cli-helpers.js'
import {BIN, type CliResult, LAUNCHER, ROOT, killTmuxServer, sandbox, waitFor} from './helpers.js'

// bin/maestro starts from the startup snapshot (the fast path); `node bin/run.js` from the bundle.
// Whatever the environment says about colour and the terminal must come out the same from both.
const box = sandbox('fast')
const terminalSocket = `${box.socket}-terminal`

before(() => startAgent(box, 'fast-one', 'sleep 1000', ['--note', 'the note']))
after(() => {
  killTmuxServer(terminalSocket)
  box.cleanup()
})

// Outputs that do not change from one run to the next (ls shows ages).
const INVOCATIONS = [['--help'], ['note', 'fast-one', '--json'], ['note', 'bad!name'], ['note', 'bad!name', '--json'], ['nope']]

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, {env, encoding: 'utf8', timeout: 30_000}, (error, stdout, stderr) => {
      resolve({code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr})
    })
  })
}

/** The sandbox's environment with `changes` applied; undefined removes a variable. */
function envWith(changes: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env = {...box.env, ...changes}
  for (const [name, value] of Object.entries(changes)) if (value === undefined) delete env[name]
  return env
}

test('the launcher starts from the snapshot', async () => {
  const watcher = spawn(LAUNCHER, ['ls', '--watch'], {env: box.env, stdio: 'ignore'})
  try {
    // exec keeps the process id: its command line is Node's.
    const cmdline = await waitFor(() => {
      const words = readFileSync(`/proc/${watcher.pid}/cmdline`, 'utf8').split('\0')
      return words.includes('--snapshot-blob') && words
    }, 10_000, 'node with --snapshot-blob')
    assert.ok(cmdline.some((word) => resolve(word) === BIN), cmdline.join(' '))
  } finally {
    watcher.kill()
  }
})

test('a snapshot built with other V8 flags than the launcher passes, as after an update not yet built, is passed over for the bundle', async () => {
  // A launcher that passes other flags, beside the real bin/run.js and dist/ (whose stamp names the flags they were built with).
  const place = mkdtempSync(join(tmpdir(), 'maestro-flags-'))
  try {
    mkdirSync(join(place, 'bin'))
    const launcher = readFileSync(LAUNCHER, 'utf8')
    assert.match(launcher, /^flags=--min-semi-space-size=16$/m)
    writeFileSync(join(place, 'bin', 'maestro'), launcher.replace(/^flags=.*$/m, 'flags=--min-semi-space-size=8'), {mode: 0o755})
    symlinkSync(BIN, join(place, 'bin', 'run.js'))
    symlinkSync(join(ROOT, 'dist'), join(place, 'dist'))
    const listed = await run(join(place, 'bin', 'maestro'), ['ls', '--json'], box.env)
    assert.equal(listed.code, 0, listed.stderr)
    assert.deepEqual(JSON.parse(listed.stdout).map((agent: {name: string}) => agent.name), ['fast-one'])
    const watcher = spawn(join(place, 'bin', 'maestro'), ['ls', '--watch'], {env: box.env, stdio: 'ignore'})
    try {
      const cmdline = await waitFor(() => {
        const words = readFileSync(`/proc/${watcher.pid}/cmdline`, 'utf8').split('\0')
        return words.some((word) => word.endsWith('run.js')) && words
      }, 10_000, 'node running bin/run.js')
      assert.ok(!cmdline.includes('--snapshot-blob'), cmdline.join(' '))
    } finally {
      watcher.kill()
    }
  } finally {
    rmSync(place, {recursive: true, force: true})
  }
})

test('output off a terminal is the same with and without the snapshot, coloured or not', async () => {
  const variants = {plain: envWith({NO_COLOR: undefined}), noColor: envWith({NO_COLOR: '1'}), forced: envWith({NO_COLOR: undefined, FORCE_COLOR: '3', OCLIF_COLUMNS: '60'})}
  for (const [variant, env] of Object.entries(variants)) {
    const results = await Promise.all(INVOCATIONS.map((args) => Promise.all([run(LAUNCHER, args, env), run(process.execPath, [BIN, ...args], env)])))
    INVOCATIONS.forEach((args, index) => assert.deepEqual(results[index][0], results[index][1], `${variant}: maestro ${args.join(' ')}`))
    const help = results[0][0].stdout
    assert.equal(help.includes('\u001B['), variant === 'forced', `${variant}: colour in --help`)
  }
})

test('output on a terminal is the same with and without the snapshot: colour, width, --json', async () => {
  // A person at a terminal: CI=true (set by CI runners) turns colour off in supports-color.
  const env = envWith({NO_COLOR: undefined, CI: undefined, TERM: 'xterm-256color'})
  const script = (start: string) => `${start} --help; ${start} note fast-one --json; ${start} note 'bad!name'; echo __done__`
  const screens: string[] = []
  for (const [name, start] of [
    ['snapshot', `'${LAUNCHER}'`],
    ['bundle', `'${process.execPath}' '${BIN}'`],
  ]) {
    const vars = ['MAESTRO_TMUX_SOCKET', 'MAESTRO_CONFIG_DIR', 'MAESTRO_STATE_DIR', 'TERM'].flatMap((key) => ['-e', `${key}=${env[key]}`])
    // 132 columns, not the 80 a build without a terminal would see.
    execFileSync('tmux', ['-L', terminalSocket, '-f', '/dev/null', 'new-session', '-d', '-x', '132', '-y', '80', '-s', name, ...vars, 'sh', '-c', `${script(start)}; exec sleep 1000`], {env})
    screens.push(
      await waitFor(() => {
        const screen = execFileSync('tmux', ['-L', terminalSocket, 'capture-pane', '-e', '-p', '-t', `=${name}:`], {encoding: 'utf8'})
        return screen.includes('__done__') && screen
      }, 30_000, `${name} to finish`),
    )
  }
  assert.equal(screens[0], screens[1])
  assert.match(screens[0], /\u001B\[1mUSAGE/, 'help is coloured on a terminal')
  assert.ok(screens[0].split('\n').some((line) => line.replace(/\u001B\[[\d;]*m/g, '').length > 80), 'help fills the 132 columns')
})

test('serve starts from the snapshot and prints its URL, as the quick start runs it', async () => {
  const server = spawn(LAUNCHER, ['serve', '--port', '0'], {env: box.env, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  server.stdout.on('data', (chunk) => (output += chunk))
  server.stderr.on('data', (chunk) => (output += chunk))
  const exited = new Promise<number | null>((resolve) => server.on('exit', resolve))
  try {
    await waitFor(() => /maestro serving on http:\/\/localhost:\d+\/\?token=/.test(output) || server.exitCode !== null, 20_000, 'the URL')
    assert.match(output, /^maestro serving on http:\/\/localhost:\d+\/\?token=\S+\n$/)
  } finally {
    server.kill('SIGTERM')
    await exited
  }
})

test('maestro starts without parsing NODE_EXTRA_CA_CERTS, and the agents it starts still get the variable', async () => {
  // A fresh tmux server, started by this `maestro new`: agents inherit the environment it starts with.
  const fresh = sandbox('fast-ca')
  try {
    // Node warns about a file it cannot read as soon as it starts, before any maestro code runs.
    const env = {...fresh.env, NODE_EXTRA_CA_CERTS: join(fresh.home, 'no-such-certificates.pem')}
    const started = await run(LAUNCHER, ['new', 'ca-user', '--cmd', 'echo "certs=$NODE_EXTRA_CA_CERTS saved=${MAESTRO_LAUNCH_NODE_EXTRA_CA_CERTS-none}"; exec sleep 1000'], env)
    assert.equal(started.code, 0, started.stderr)
    assert.doesNotMatch(started.stderr, /extra certs/, 'Node parsed the certificates')
    const screen = await waitFor(() => /certs=.*saved=\S+/.exec(fresh.tmux(['capture-pane', '-p', '-t', '=ca-user:']))?.[0], 10_000, 'the agent to print its environment')
    assert.equal(screen, `certs=${env.NODE_EXTRA_CA_CERTS} saved=none`)
    // The bundle has no launcher in front of it: Node reads the variable as it always does.
    assert.match((await run(process.execPath, [BIN, 'ls'], env)).stderr, /Ignoring extra certs/)
  } finally {
    fresh.cleanup()
  }
})
