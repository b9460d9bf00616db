import {execFileSync, spawn, type ChildProcess} from 'node:child_process'
import {chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * A real OpenSSH server on a loopback port, with one throwaway Unix user per test host, so each
 * host has a tmux server of its own. Keys are made for this run; the server's host key is pinned
 * in a known_hosts file of the run, with StrictHostKeyChecking on: nothing is ever trusted blindly.
 * Needs root (to add users and run sshd), as CI and the developers' machines have.
 */
export interface SshWorld {
  port: number
  /** The ssh config file maestro reads through MAESTRO_SSH_CONFIG: every alias below is in it. */
  config: string
  /** The client's private key. */
  identity: string
  /** Per host: its alias in `config` (HostName 127.0.0.1, Port, User) and its Unix user. */
  hosts: {alias: string; user: string; home: string}[]
  /** Every line sshd logged so far. */
  log(): string
  /** How many connections sshd accepted so far. */
  accepted(): number
  /** Runs tmux as a host's user on its maestro server, for checks that must not trust maestro. */
  tmuxAs(user: string, args: string[]): string
  /** The sessions on a host user's maestro server; none when no server runs. */
  sessionsOf(user: string): string[]
  stop(): Promise<void>
  /** Stops accepting connections (the port closes), as when a host goes down. */
  stopListening(): Promise<void>
}

export async function freePort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const {port} = server.address() as {port: number}
  await new Promise((resolve) => server.close(resolve))
  return port
}

/** The processes for which `pick` says yes, given each one's /proc stat and status. */
function processes(pick: (stat: string, status: string) => boolean): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      if (pick(readFileSync(`/proc/${entry}/stat`, 'utf8'), readFileSync(`/proc/${entry}/status`, 'utf8'))) found.push(Number(entry))
    } catch {
      // the process ended meanwhile
    }
  }
  return found
}

function childrenOf(parent: number): number[] {
  // The fields after the command name, which is in parentheses and may hold spaces.
  return processes((stat) => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent)
}

/**
 * Ends every process of a test user. userdel leaves them running, and the next run's user may get
 * the same uid: tmux 3.3a's server cannot exit while a client it cannot write to holds on, so a
 * remote watcher cut off with its ssh connection kept a server alive on that uid's socket, which
 * then refused every client of the next run ("server exited unexpectedly").
 */
function endProcessesOf(user: string): void {
  const uid = Number(execFileSync('id', ['-u', user], {encoding: 'utf8'}).trim())
  for (const pid of processes((_stat, status) => Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]) === uid)) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {
      // it ended meanwhile
    }
  }
  rmSync(`/tmp/tmux-${uid}`, {recursive: true, force: true})
}

export async function startSshWorld(hostCount: number): Promise<SshWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'maestro-sshd-'))
  chmodSync(dir, 0o755)
  const tag = Math.random().toString(36).slice(2, 8)
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'host_key')])
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, 'id')])
  const publicKey = readFileSync(join(dir, 'id.pub'), 'utf8')
  const hosts: SshWorld['hosts'] = []
  for (let index = 0; index < hostCount; index++) {
    const user = `mh${tag}${index}`
    const home = join('/home', user)
    // A password of "*" rather than useradd's "!": sshd without PAM refuses locked accounts.
    execFileSync('useradd', ['--create-home', '--shell', '/bin/sh', '--password', '*', user])
    // Whatever an earlier run left on this uid (killed before its cleanup) must not answer for it.
    endProcessesOf(user)
    mkdirSync(join(home, '.ssh'), {mode: 0o700})
    writeFileSync(join(home, '.ssh', 'authorized_keys'), publicKey, {mode: 0o600})
    execFileSync('chown', ['-R', `${user}:${user}`, join(home, '.ssh')])
    hosts.push({alias: `test-${user}`, user, home})
  }
  mkdirSync('/run/sshd', {recursive: true, mode: 0o755})

  let port = 0
  let sshd: ChildProcess | undefined
  let log = ''
  // Another process may take the port between freePort and sshd's bind: then try another.
  for (let attempt = 0; attempt < 5 && !sshd; attempt++) {
    port = await freePort()
    writeFileSync(
      join(dir, 'sshd_config'),
      [
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${join(dir, 'host_key')}`,
        `PidFile ${join(dir, 'sshd.pid')}`,
        'AuthorizedKeysFile .ssh/authorized_keys',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'UsePAM no',
        `AllowUsers ${hosts.map(({user}) => user).join(' ')}`,
        'PrintMotd no',
        'MaxStartups 100',
        'LogLevel INFO',
      ].join('\n') + '\n',
    )
    const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], {stdio: ['ignore', 'ignore', 'pipe']})
    child.stderr!.setEncoding('utf8')
    const started = await new Promise<boolean>((resolve) => {
      child.stderr!.on('data', (chunk: string) => {
        log += chunk
        if (log.includes('Server listening on')) resolve(true)
      })
      child.on('exit', () => resolve(false))
    })
    if (started) sshd = child
    else if (!/Address already in use/.test(log)) throw new Error(`sshd did not start:\n${log}`)
  }
  if (!sshd) throw new Error(`sshd found no free port:\n${log}`)

  const hostKey = readFileSync(join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ')
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`)
  const config = join(dir, 'ssh_config')
  writeFileSync(
    config,
    [
      // The first value ssh obtains wins: the aliases' own lines first, then what all share.
      ...hosts.flatMap(({alias, user}) => [`Host ${alias}`, '  HostName 127.0.0.1', `  Port ${port}`, `  User ${user}`]),
      'Host *',
      `  UserKnownHostsFile ${join(dir, 'known_hosts')}`,
      '  GlobalKnownHostsFile /dev/null',
      '  StrictHostKeyChecking yes',
      `  IdentityFile ${join(dir, 'id')}`,
      '  IdentitiesOnly yes',
    ].join('\n') + '\n',
  )

  const server = sshd
  const exited = new Promise((resolve) => server.on('exit', resolve))
  const world: SshWorld = {
    port,
    config,
    identity: join(dir, 'id'),
    hosts,
    log: () => log,
    accepted: () => (log.match(/Accepted publickey for /g) ?? []).length,
    tmuxAs(user, args) {
      return execFileSync('runuser', ['-u', user, '--', 'tmux', '-L', 'maestro', ...args], {encoding: 'utf8', cwd: '/', stdio: ['ignore', 'pipe', 'pipe']})
    },
    sessionsOf(user) {
      try {
        return world.tmuxAs(user, ['list-sessions', '-F', '#{session_name}']).split('\n').filter(Boolean).sort()
      } catch {
        return []
      }
    },
    async stopListening() {
      if (server.exitCode === null) server.kill('SIGTERM')
      await exited
    },
    async stop() {
      // Each connection has an sshd of its own, a child of the listener that outlives it: ending
      // those closes the connections, and so the ssh masters on this side.
      for (const pid of childrenOf(server.pid!)) {
        try {
          process.kill(pid, 'SIGTERM')
        } catch {
          // that connection ended on its own meanwhile
        }
      }
      await world.stopListening()
      for (const {user} of hosts) {
        try {
          execFileSync('runuser', ['-u', user, '--', 'tmux', '-L', 'maestro', 'kill-server'], {stdio: 'ignore', cwd: '/'})
        } catch {
          // no tmux server ran for this user
        }
        endProcessesOf(user)
        execFileSync('userdel', ['--force', '--remove', user], {stdio: 'ignore'})
      }
      rmSync(dir, {recursive: true, force: true})
    },
  }
  return world
}
