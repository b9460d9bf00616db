import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, test} from 'node:test'

import {assertHumanError, parseJson, startAgent} from './cli-helpers.js'
import {ROOT, sandbox, waitFor} from './helpers.js'

const box = sandbox('hooks')
after(() => box.cleanup())

function project(name: string): string {
  const dir = join(box.home, name)
  mkdirSync(dir, {recursive: true})
  return dir
}

const backups = (dir: string) => readdirSync(dir).filter((file) => file.includes('.maestro-backup-'))

test('claude hooks merge into settings that hold other keys and hooks; twice is once; uninstall restores them', async () => {
  const dir = project('claude')
  mkdirSync(join(dir, '.claude'))
  const file = join(dir, '.claude', 'settings.json')
  const original = {model: 'opus', permissions: {allow: ['Bash(npm test)']}, hooks: {Stop: [{hooks: [{type: 'command', command: 'say done'}]}]}}
  writeFileSync(file, `${JSON.stringify(original, null, 4)}\n`)

  const installed = await box.cli(['hooks', 'install', 'claude', '--project', dir, '--json'])
  assert.equal(installed.code, 0, installed.stderr)
  assert.equal(parseJson(installed).changed, true)
  const settings = JSON.parse(readFileSync(file, 'utf8'))
  assert.equal(settings.model, 'opus')
  assert.deepEqual(settings.permissions, original.permissions)
  assert.deepEqual(settings.hooks.Stop[0], original.hooks.Stop[0], 'the user’s own Stop hook stays first')
  assert.equal(settings.hooks.Stop[1].hooks[0].command, "maestro report idle --hook --message 'turn finished'")
  assert.equal(settings.hooks.UserPromptSubmit[0].hooks[0].command, 'maestro report working --hook')
  assert.match(settings.hooks.Notification[0].hooks[0].command, /^maestro report waiting --hook/)
  assert.match(readFileSync(file, 'utf8'), /^ {4}"model"/m, 'the file keeps its indentation')
  const [backup] = backups(join(dir, '.claude'))
  assert.deepEqual(JSON.parse(readFileSync(join(dir, '.claude', backup), 'utf8')), original, 'the backup holds the file as it was')

  const after = readFileSync(file, 'utf8')
  const again = await box.cli(['hooks', 'install', 'claude', '--project', dir, '--json'])
  assert.equal(parseJson(again).changed, false)
  assert.equal(readFileSync(file, 'utf8'), after)
  assert.equal(backups(join(dir, '.claude')).length, 1, 'nothing changed, nothing backed up')

  const status = parseJson<Array<{program: string; installed: boolean}>>(await box.cli(['hooks', 'status', '--project', dir, '--json']))
  assert.deepEqual(status.map(({program, installed}) => [program, installed]), [['claude', true], ['codex', false], ['gemini', false], ['qwen', false], ['copilot', false], ['opencode', false]])

  assert.equal((await box.cli(['hooks', 'uninstall', 'claude', '--project', dir])).code, 0)
  assert.deepEqual(JSON.parse(readFileSync(file, 'utf8')), original)
})

test('codex notify goes before the first table, keeping comments; uninstall gives the file back byte for byte', async () => {
  const dir = project('codex')
  mkdirSync(join(dir, '.codex'))
  const file = join(dir, '.codex', 'config.toml')
  const original = '# my settings\nmodel = "o3" # fast enough\n\n[tui]\n# keep this\nalt_screen = false\n'
  writeFileSync(file, original)
  assert.equal((await box.cli(['hooks', 'install', 'codex', '--project', dir])).code, 0)
  const text = readFileSync(file, 'utf8')
  assert.equal(text, original.replace('\n[tui]', `\nnotify = ["sh", "-c", "maestro report idle --hook --message 'codex finished a turn'"]\n[tui]`))
  assert.equal((await box.cli(['hooks', 'install', 'codex', '--project', dir])).code, 0)
  assert.equal(readFileSync(file, 'utf8'), text)
  assert.equal((await box.cli(['hooks', 'uninstall', 'codex', '--project', dir])).code, 0)
  assert.equal(readFileSync(file, 'utf8'), original)

  // Codex takes one notify program: someone else's is never replaced.
  writeFileSync(file, 'notify = ["notify-send", "codex"]\n')
  assertHumanError(await box.cli(['hooks', 'install', 'codex', '--project', dir]), 'INVALID_ARGUMENT', 2, /already has its own notify/)
  assert.equal(readFileSync(file, 'utf8'), 'notify = ["notify-send", "codex"]\n')
})

test('copilot gets a hooks file of its own, which uninstall removes; a broken settings file is left alone', async () => {
  const dir = project('copilot')
  assert.equal((await box.cli(['hooks', 'install', 'copilot', '--project', dir])).code, 0)
  const file = join(dir, '.github', 'hooks', 'maestro.json')
  const hooks = JSON.parse(readFileSync(file, 'utf8'))
  assert.equal(hooks.version, 1)
  assert.deepEqual(hooks.hooks.userPromptSubmitted, [{type: 'command', bash: 'maestro report working --hook'}])
  assert.equal((await box.cli(['hooks', 'uninstall', 'copilot', '--project', dir])).code, 0)
  assert.equal(existsSync(file), false)

  mkdirSync(join(dir, '.gemini'))
  writeFileSync(join(dir, '.gemini', 'settings.json'), '{"theme": "dark",')
  assertHumanError(await box.cli(['hooks', 'install', 'gemini', '--project', dir]), 'SETTINGS_CORRUPT', 1, /not valid JSON/)
  assert.equal(readFileSync(join(dir, '.gemini', 'settings.json'), 'utf8'), '{"theme": "dark",')
  assertHumanError(await box.cli(['hooks', 'install', 'aider']), 'INVALID_ARGUMENT', 2, /no hooks for "aider"/)
})

test('a hook outside any agent does nothing and exits 0, so it never blocks the program that runs it', async () => {
  const outside = await box.cli(['report', 'working', '--hook'], {env: {MAESTRO_AGENT: '', TMUX_PANE: ''}})
  assert.equal(outside.code, 0, outside.stderr)
  assert.equal(outside.stdout, '')
  assert.equal((await box.cli(['report', 'working'], {env: {MAESTRO_AGENT: '', TMUX_PANE: ''}})).code, 2)
})

test('opencode gets a plugin of its own, whose events report from inside an agent; uninstall removes it; a maestro.js not ours stays', async () => {
  const dir = project('opencode')
  const file = join(dir, '.opencode', 'plugins', 'maestro.js')
  assert.equal(parseJson((await box.cli(['hooks', 'install', 'opencode', '--project', dir, '--json']))).changed, true)
  const plugin = readFileSync(file, 'utf8')
  assert.equal(parseJson((await box.cli(['hooks', 'install', 'opencode', '--project', dir, '--json']))).changed, false)
  assert.equal(readFileSync(file, 'utf8'), plugin)
  const status = parseJson<Array<{program: string; installed: boolean}>>(await box.cli(['hooks', 'status', '--project', dir, '--json']))
  assert.equal(status.find((entry) => entry.program === 'opencode')?.installed, true)

  // Loaded as opencode loads a plugin, and handed an event as opencode hands it, in an agent with maestro on its PATH.
  const bin = join(box.home, 'opencode-bin')
  mkdirSync(bin)
  symlinkSync(join(ROOT, 'bin', 'maestro'), join(bin, 'maestro'))
  const driver = join(dir, 'drive.mjs')
  writeFileSync(
    driver,
    `const {MaestroReport} = await import(${JSON.stringify(file)})
const hooks = await MaestroReport({directory: ${JSON.stringify(dir)}})
await hooks.event({event: {type: 'permission.asked', properties: {id: 'per_1', sessionID: 'ses_1'}}})
setInterval(() => {}, 60_000)
`,
  )
  await startAgent(box, 'opencode-plugin', `PATH='${bin}':"$PATH" node '${driver}'`)
  const agent = await waitFor(async () => {
    const found = parseJson<Array<{name: string; state: string; stateSource: string; stateMessage: string}>>(await box.cli(['ls', '--json'])).find((each) => each.name === 'opencode-plugin')
    return found?.stateSource === 'report' && found
  }, 15_000, 'the plugin to report')
  assert.equal(agent.state, 'waiting')
  assert.equal(agent.stateMessage, 'opencode asks for permission')

  assert.equal((await box.cli(['hooks', 'uninstall', 'opencode', '--project', dir])).code, 0)
  assert.equal(existsSync(file), false)
  writeFileSync(file, 'export const Mine = async () => ({})\n')
  assertHumanError(await box.cli(['hooks', 'install', 'opencode', '--project', dir]), 'INVALID_ARGUMENT', 2, /is not maestro's/)
  assert.equal((await box.cli(['hooks', 'uninstall', 'opencode', '--project', dir])).code, 0)
  assert.equal(readFileSync(file, 'utf8'), 'export const Mine = async () => ({})\n')
})
