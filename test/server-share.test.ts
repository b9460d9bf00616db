// Share links: a grant sees only its agents, with the role it was given, until revoked or expired.
import assert from 'node:assert/strict'
import {existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, before, test} from 'node:test'

import {createGrant, grantsPath} from '../src/store/grants.js'
import {notesPath} from '../src/store/notes.js'
import {sandbox, waitFor} from './helpers.js'
import {type TestServer, api, call, newAgent, openSocket, serve, terminalPath} from './server-helpers.js'

const box = sandbox('server-share')
let t: TestServer

before(async () => {
  await newAgent(box, 'shared', 'cat')
  await newAgent(box, 'private', 'cat')
  t = await serve(box)
})
after(async () => {
  await t?.server.close()
  box.cleanup()
})

/** `maestro share …` through the real CLI; returns the grant and the token of its link. */
async function share(args: string[]): Promise<{id: string; token: string; url: string; role: string; expiresAt: string}> {
  const result = await box.cli(['share', ...args, '--json'])
  assert.equal(result.code, 0, result.stderr)
  const grant = JSON.parse(result.stdout)
  return {...grant, token: new URL(grant.url).searchParams.get('token')!}
}

const as = (token: string): TestServer => ({...t, token})
const grantedAgents = (id: string): string[] => JSON.parse(readFileSync(grantsPath(box.context), 'utf8')).find((grant: {id: string}) => grant.id === id).agents
const auditText = () => readFileSync(join(box.env.MAESTRO_STATE_DIR!, 'audit.log'), 'utf8')

test('a grant sees only its agents: the list, notes, events and terminals of others are invisible', async () => {
  const grant = await share(['shared', '--role', 'operator', '--label', 'colleague'])
  assert.match(grant.url, new RegExp(`^http://localhost:${t.port}/\\?token=[A-Za-z0-9_-]{43}$`))
  assert.equal(statSync(grantsPath(box.context)).mode & 0o777, 0o600)
  assert.ok(!readFileSync(grantsPath(box.context), 'utf8').includes(grant.token), 'the token is stored in clear')
  const g = as(grant.token)
  assert.deepEqual((await api(g, 'GET', '/api/agents')).json.map((agent: {name: string}) => agent.name), ['shared'])
  assert.equal((await api(g, 'GET', '/api/agents/private/note')).status, 404)
  assert.equal((await api(g, 'PUT', '/api/agents/private/note', {text: 'x', revision: 0})).status, 404)
  assert.equal((await api(g, 'GET', '/api/agents/shared/note')).status, 200)
  const session = (await api(g, 'GET', '/api/session')).json
  assert.deepEqual(session.grant, {id: grant.id, role: 'operator', agents: ['shared'], label: 'colleague', expiresAt: grant.expiresAt})

  const events = await openSocket(g, '/api/events')
  await waitFor(() => events.notices.length > 0, 10_000, 'the first list')
  assert.deepEqual(events.notices[0].agents.map((agent: {name: string}) => agent.name), ['shared'])
  await events.close()
  const other = await openSocket(g, terminalPath('private'))
  assert.equal((await other.closedPromise).code, 4004)
})

test('a grant cannot reach admin operations: create, kill, rename, restart, share', async () => {
  const grant = await share(['shared', '--role', 'operator'])
  const g = as(grant.token)
  const refused = [
    await api(g, 'POST', '/api/agents', {name: 'intruder', cmd: 'cat'}),
    await api(g, 'DELETE', '/api/agents/shared'),
    await api(g, 'POST', '/api/agents/shared/rename', {name: 'moved'}),
    await api(g, 'POST', '/api/agents/shared/restart'),
    await api(g, 'POST', '/api/shares', {agents: ['private']}),
    await api(g, 'GET', '/api/shares'),
    await api(g, 'DELETE', `/api/shares/${grant.id}`),
  ]
  assert.deepEqual(refused.map((reply) => [reply.status, reply.json.error.code]), Array(7).fill([403, 'FORBIDDEN']))
  assert.deepEqual(box.tmux(['list-sessions', '-F', '#{session_name}']).trim().split('\n').sort(), ['private', 'shared'])
})

test('an operator types and edits notes; a viewer can neither type, resize nor edit', async () => {
  const operator = as((await share(['shared', '--role', 'operator'])).token)
  const typing = await openSocket(operator, terminalPath('shared'))
  typing.send({type: 'input', data: 'operator-was-here\r'})
  await typing.waitForText('operator-was-here', 10_000)
  await typing.close()
  const revision = (await api(operator, 'GET', '/api/agents/shared/note')).json.revision
  assert.equal((await api(operator, 'PUT', '/api/agents/shared/note', {text: 'from the operator', revision})).status, 200)

  const viewer = as((await share(['shared'])).token)
  assert.equal((await api(viewer, 'GET', '/api/session')).json.readonly, true)
  const size = box.tmux(['display-message', '-p', '-t', '=shared:', '#{window_width}x#{window_height}']).trim()
  const watching = await openSocket(viewer, terminalPath('shared', 50, 10))
  await waitFor(() => watching.notices.some((notice) => notice.type === 'size'), 10_000, 'the size notice')
  watching.send({type: 'input', data: 'viewer-typed-this\r'})
  watching.send({type: 'resize', cols: 40, rows: 8})
  // A later operator keystroke arrives; the viewer's never did.
  const after = await openSocket(operator, terminalPath('shared'))
  after.send({type: 'input', data: 'marker-after\r'})
  await watching.waitForText('marker-after', 10_000)
  assert.ok(!box.tmux(['capture-pane', '-p', '-t', '=shared:']).includes('viewer-typed-this'))
  assert.equal(box.tmux(['display-message', '-p', '-t', '=shared:', '#{window_width}x#{window_height}']).trim(), size)
  await Promise.all([watching.close(), after.close()])
  const note = await api(viewer, 'PUT', '/api/agents/shared/note', {text: 'from the viewer', revision: revision + 1})
  assert.deepEqual([note.status, note.json.error.code], [403, 'READ_ONLY'])
})

test('share revoke closes open sockets at once and refuses the token; expiry does the same', async () => {
  const grant = await share(['shared', '--role', 'operator'])
  const g = as(grant.token)
  const cookie = String((await call(`${t.base}/?token=${grant.token}`)).headers['set-cookie']).split(';')[0]
  const events = await openSocket(g, '/api/events')
  const terminal = await openSocket(g, terminalPath('shared'))
  const started = Date.now()
  const revoked = await box.cli(['share', 'revoke', grant.id])
  assert.equal(revoked.code, 0, revoked.stderr)
  assert.equal((await events.closedPromise).code, 4003)
  assert.equal((await terminal.closedPromise).code, 4003)
  console.log(`# sockets closed ${Date.now() - started} ms after share revoke was started (CLI start-up included)`)
  assert.equal((await api(g, 'GET', '/api/agents')).status, 401)
  assert.equal((await call(`${t.base}/api/agents`, {headers: {cookie}})).status, 401)
  const unknown = await box.cli(['share', 'revoke', grant.id])
  assert.equal(unknown.code, 1)
  assert.match(unknown.stderr, /\[GRANT_NOT_FOUND\]/)

  const {token} = await createGrant(box.context, {agents: ['shared'], role: 'viewer', expiresInMs: 1500})
  const short = await openSocket(as(token), '/api/events')
  assert.equal((await short.closedPromise).code, 4003)
  assert.equal((await api(as(token), 'GET', '/api/agents')).status, 401)
})

test('grants survive a restart; Host and Origin checks apply to them; the audit log names grant ids only', async () => {
  const grant = await share(['shared'])
  const cookie = String((await call(`${t.base}/?token=${grant.token}`)).headers['set-cookie']).split(';')[0]
  const port = t.port
  await t.server.close()
  t = await serve(box, {port})
  assert.deepEqual((await api(as(grant.token), 'GET', '/api/agents')).json.map((agent: {name: string}) => agent.name), ['shared'])
  assert.deepEqual(JSON.parse((await call(`${t.base}/api/agents`, {headers: {cookie}})).body).map((agent: {name: string}) => agent.name), ['shared'])
  assert.equal((await call(`${t.base}/api/agents`, {headers: {authorization: `Bearer ${grant.token}`, host: 'rebind.example'}})).status, 403)
  await assert.rejects(openSocket(as(grant.token), '/api/events', {origin: 'http://evil.example'}), {status: 403})
  await api(as(grant.token), 'DELETE', '/api/agents/shared')

  const text = auditText()
  assert.ok(!text.includes(grant.token))
  const entries = text.trim().split('\n').map((line) => JSON.parse(line))
  assert.ok(entries.some((entry) => entry.event === 'grant_create' && entry.grant === grant.id))
  assert.ok(entries.some((entry) => entry.event === 'auth_ok' && entry.grant === grant.id))
  assert.ok(entries.some((entry) => entry.event === 'refused' && entry.reason === 'outside share' && entry.grant === grant.id))
  assert.ok(entries.some((entry) => entry.event === 'grant_revoke'))
  assert.ok(entries.some((entry) => entry.event === 'grant_refused'))
})

test('grants.json is written under a lock: 12 share commands at once keep 12 grants', async () => {
  const stored = () => (existsSync(grantsPath(box.context)) ? JSON.parse(readFileSync(grantsPath(box.context), 'utf8')).map((grant: {id: string}) => grant.id) : [])
  const before = stored().length
  const results = await Promise.all(Array.from({length: 12}, () => box.cli(['share', 'shared', '--json'])))
  for (const result of results) assert.equal(result.code, 0, result.stderr)
  const ids = results.map((result) => JSON.parse(result.stdout).id)
  const after = stored()
  for (const id of ids) assert.ok(after.includes(id), `grant ${id} was lost`)
  assert.equal(after.length, before + 12)
  assert.equal((await box.cli(['share', 'revoke', ...ids])).code, 0)
})

test('a grant follows its agent through a rename (CLI and API) and loses it when it is killed', async () => {
  await newAgent(box, 'moving', 'cat')
  const grant = await share(['moving', '--role', 'operator'])
  const g = as(grant.token)
  const events = await openSocket(g, '/api/events')
  const renamed = await box.cli(['rename', 'moving', 'moved'])
  assert.equal(renamed.code, 0, renamed.stderr)
  const names = (notice: {type: string; agents?: {name: string}[]}) => notice.type === 'agents' && notice.agents!.map((agent) => agent.name).join()
  await waitFor(() => events.notices.some((notice) => names(notice) === 'moved'), 10_000, 'the renamed agent in the grant’s event stream')
  assert.deepEqual((await api(g, 'GET', '/api/agents')).json.map((agent: {name: string}) => agent.name), ['moved'])
  assert.equal((await api(g, 'GET', '/api/agents/moved/note')).status, 200)
  assert.equal((await api(t, 'POST', '/api/agents/moved/rename', {name: 'moved-again'})).status, 200)
  assert.deepEqual((await api(g, 'GET', '/api/agents')).json.map((agent: {name: string}) => agent.name), ['moved-again'])
  const terminal = await openSocket(g, terminalPath('moved-again'))
  terminal.send({type: 'input', data: 'still-shared\r'})
  await terminal.waitForText('still-shared', 10_000)
  await terminal.close()
  await events.close()
  assert.deepEqual(JSON.parse((await box.cli(['share', 'ls', '--json'])).stdout).find((listed: {id: string}) => listed.id === grant.id).agents, ['moved-again'])

  // A new agent that takes the name of a killed one is not shared by the old link.
  assert.equal((await box.cli(['kill', 'moved-again'])).code, 0)
  await newAgent(box, 'moved-again', 'cat')
  assert.deepEqual(grantedAgents(grant.id), [])
  // The kill ran in another process: the server re-reads the grant file on its own (every 250 ms).
  await waitFor(async () => (await api(g, 'GET', '/api/agents')).json.length === 0, 10_000, 'the old link to lose the new agent')
  assert.equal((await api(g, 'GET', '/api/agents/moved-again/note')).status, 404)
  assert.equal((await box.cli(['kill', 'moved-again'])).code, 0)
})

test('the page opened with a share link shows only its agents, with a badge naming the role and the expiry', async () => {
  const {agentRow, launchBrowser, screenshotPath} = await import('./web-helpers.js')
  const grant = await share(['shared', '--label', 'phone'])
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    await page.goto(grant.url)
    await agentRow(page, 'shared').waitFor({timeout: 15_000})
    const badge = page.locator('.badge.grant')
    assert.match((await badge.textContent()) ?? '', /^viewer · until /)
    assert.match((await badge.getAttribute('title')) ?? '', /Share link "phone": you can watch these agents/)
    assert.equal(await agentRow(page, 'private').count(), 0)
    assert.equal(await page.locator('button.new-agent').isVisible(), false)
    await page.screenshot({path: screenshotPath('share-viewer.png')})
  } finally {
    await browser.close()
  }
})

test('the page makes a share link for the selected agent, lists it and revokes it; the link’s page then loses access', async () => {
  const {agentRow, launchBrowser, screenshotPath} = await import('./web-helpers.js')
  const browser = await launchBrowser()
  try {
    const page = await browser.newPage()
    await page.goto(`${t.base}/?token=${encodeURIComponent(t.token)}#shared`)
    await page.locator('.agent-actions button.share').click()
    const dialog = page.locator('dialog.share')
    await dialog.locator('select[name=role]').selectOption('operator')
    await dialog.locator('input[name=expires]').fill('2h')
    await dialog.locator('input[name=label]').fill('pair')
    await dialog.locator('button[type=submit]').click()
    const link = await waitFor(async () => (await dialog.locator('.share-url').inputValue()) || undefined, 15_000, 'the new link')
    const item = dialog.locator('.share-list li', {hasText: 'operator · pair'})
    await item.waitFor({timeout: 15_000})
    await page.screenshot({path: screenshotPath('share-dialog.png')})

    const other = await (await browser.newContext()).newPage()
    await other.goto(link)
    await agentRow(other, 'shared').waitFor({timeout: 15_000})
    assert.equal(await agentRow(other, 'private').count(), 0)
    assert.match((await other.locator('.badge.grant').textContent()) ?? '', /^operator · until /)
    assert.equal(await other.locator('.agent-actions').isVisible(), false)
    // `n` would open the new-agent form; a share link cannot create, so nothing opens.
    await other.locator('.brand').click()
    await other.keyboard.press('n')
    assert.equal(await other.locator('dialog').count(), 0)

    await item.locator('button.revoke').click()
    await item.waitFor({state: 'detached', timeout: 15_000})
    assert.equal((await call(`${t.base}/api/agents`, {headers: {authorization: `Bearer ${new URL(link).searchParams.get('token')}`}})).status, 401)
    await other.locator('.app[data-connection="signed-out"]').waitFor({timeout: 15_000})
  } finally {
    await browser.close()
  }
})

test('a grant never sees the server’s storage failures, which name other agents and paths', async () => {
  const grant = await share(['shared', '--role', 'viewer'])
  const notes = notesPath(box.context)
  const saved = existsSync(notes) ? readFileSync(notes) : undefined
  rmSync(notes, {force: true})
  mkdirSync(join(notes, 'block'), {recursive: true})
  try {
    const failed = await api(t, 'PUT', '/api/agents/private/note', {text: 'secret plan', revision: 0})
    assert.equal(failed.json.error?.code ?? failed.json.code, 'STORAGE_FAILED', JSON.stringify(failed.json))
  } finally {
    rmSync(notes, {recursive: true})
    if (saved) writeFileSync(notes, saved, {mode: 0o600})
  }
  const owner = (await api(t, 'GET', '/api/session')).json
  assert.match(owner.storage.last, /private/, 'the owner is told what failed')
  const session = (await api(as(grant.token), 'GET', '/api/session')).json
  assert.ok(!JSON.stringify(session).includes('private'), JSON.stringify(session))
  assert.deepEqual(session.storage, {failures: 0, last: null})
})

test('a new agent given the name of one that vanished outside maestro (tmux killed, a reboot) is not shared by the old link', async () => {
  await newAgent(box, 'reborn', 'cat')
  const grant = await share(['reborn', '--role', 'operator'])
  const g = as(grant.token)
  assert.deepEqual((await api(g, 'GET', '/api/agents')).json.map((agent: {name: string}) => agent.name), ['reborn'])
  box.tmux(['kill-session', '-t', '=reborn'])
  await newAgent(box, 'reborn', 'cat')
  assert.deepEqual(grantedAgents(grant.id), [], 'the grant file no longer names it')
  // The server re-reads the grant file on its own (every 250 ms) after a change made outside it.
  await waitFor(async () => (await api(g, 'GET', '/api/agents')).json.length === 0, 10_000, 'the old link to lose the new agent')
  assert.equal((await api(g, 'GET', '/api/agents/reborn/note')).status, 404)
  const terminal = await openSocket(g, terminalPath('reborn'))
  assert.equal((await terminal.closedPromise).code, 4004)
})
