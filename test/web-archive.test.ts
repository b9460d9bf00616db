// The archive on the page and through the API: list, show, recording, replay (issue 8).
import assert from 'node:assert/strict'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, test} from 'node:test'

import {parseJson} from './cli-helpers.js'
import {sandbox, waitFor} from './helpers.js'
import {type TestServer, api, call, serve} from './server-helpers.js'
import {type PageSession, assertNoPageErrors, openPage, screenshotPath, watchPageErrors} from './web-helpers.js'

const box = sandbox('web-archive')
let t: TestServer
let session: PageSession | undefined
/** What the killed agent's screen showed, line by line, as tmux drew it. */
let shown: string[]
let archiveId: string

before(async () => {
  const draw = "printf '\\033[32mgreen line\\033[0m\\nsecond line\\n\\033[6;12Hplaced on row six\\n'; exec sleep 1000"
  const created = await box.cli(['new', 'painted', '--cmd', `sh -c "${draw}"`, '--note', 'painted note'])
  assert.equal(created.code, 0, created.stderr)
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=painted:']).includes('placed on row six'), 10_000, 'the drawing')
  shown = box.tmux(['capture-pane', '-p', '-t', '=painted:']).split('\n').map((line) => line.trimEnd())
  const killed = await box.cli(['kill', 'painted', '--json'])
  assert.equal(killed.code, 0, killed.stderr)
  archiveId = parseJson(killed)[0].archive.split('/').pop()
  // An archive from before recordings existed.
  const old = join(box.env.MAESTRO_STATE_DIR!, 'archive', 'older', '2020-01-01T00-00-00.000Z')
  mkdirSync(old, {recursive: true})
  writeFileSync(join(old, 'note.md'), 'older note')
  assert.equal((await box.cli(['new', 'live', '--cmd', 'cat'])).code, 0)
  t = await serve(box)
})

afterEach(() => assertNoPageErrors())

after(async () => {
  await session?.close()
  await t?.server.close()
  box.cleanup()
})

test('the API lists archives, shows one and serves its recording, only to a signed-in owner', async () => {
  const listed = await api(t, 'GET', '/api/archives')
  assert.equal(listed.status, 200)
  assert.deepEqual(
    listed.json.map((entry: {name: string; recording: boolean}) => [entry.name, entry.recording]),
    [['painted', true], ['older', false]],
  )
  assert.deepEqual(listed.json, parseJson(await box.cli(['archive', 'ls', '--json'])), 'the same shape as archive ls --json')

  const shownArchive = await api(t, 'GET', `/api/archives/painted/${archiveId}`)
  assert.equal(shownArchive.status, 200)
  assert.equal(shownArchive.json.note, 'painted note')
  assert.match(shownArchive.json.scrollback, /placed on row six/)

  const recording = await call(`${t.base}/api/archives/painted/${archiveId}/recording`, {headers: {authorization: `Bearer ${t.token}`}})
  assert.equal(recording.status, 200)
  assert.match(String(recording.headers['content-type']), /^application\/x-asciicast/)
  assert.equal(JSON.parse(recording.body.split('\n')[0]).version, 2)
  assert.match(recording.body, /placed on row six/)

  assert.equal((await api(t, 'GET', '/api/archives/older/2020-01-01T00-00-00.000Z/recording')).json.error.code, 'RECORDING_NOT_FOUND')
  for (const path of ['/api/archives', `/api/archives/painted/${archiveId}`, `/api/archives/painted/${archiveId}/recording`]) {
    assert.equal((await call(`${t.base}${path}`)).status, 401, `${path} without a token`)
    assert.equal((await call(`${t.base}${path}`, {headers: {authorization: 'Bearer not-the-token'}})).status, 401)
  }
})

test('an archive path cannot leave the archive, and a share link sees no archive at all', async () => {
  const outside = await api(t, 'GET', '/api/archives/painted/..%2F..%2F..%2Fconfig')
  assert.equal(outside.status, 404)
  assert.equal(outside.json.error.code, 'ARCHIVE_NOT_FOUND')
  const badName = await api(t, 'GET', `/api/archives/..%2Fpainted/${archiveId}`)
  assert.equal(badName.status, 400)
  assert.equal(badName.json.error.code, 'INVALID_NAME')

  const shared = await box.cli(['share', 'live', '--role', 'operator', '--json'])
  assert.equal(shared.code, 0, shared.stderr)
  const token = new URL(parseJson(shared).url).searchParams.get('token')!
  for (const path of ['/api/archives', `/api/archives/painted/${archiveId}`, `/api/archives/painted/${archiveId}/recording`]) {
    const refused = await api({...t, token}, 'GET', path)
    assert.equal(refused.status, 403, path)
    assert.equal(refused.json.error.code, 'FORBIDDEN')
  }
})

test('the page lists archived agents and replays a recording to the screen the agent showed', async () => {
  session = await openPage(box.env)
  const {page} = session
  watchPageErrors(page)
  await page.locator('.archive-button').click()
  const row = page.locator(`.archive-list li[data-name="painted"][data-id="${archiveId}"]`)
  await row.waitFor({timeout: 15_000})
  assert.equal(await page.locator('.archive-list li[data-name="older"] .replay-button').isDisabled(), true, 'no recording, no replay')
  await page.screenshot({path: screenshotPath('archive-list.png')})

  await row.locator('.replay-button').click()
  await page.locator('.replay[data-state="ended"]').waitFor({timeout: 20_000})
  const replayed = await page.evaluate(() =>
    [...document.querySelectorAll('.replay .xterm-rows > div')].map((line) => (line.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()),
  )
  assert.equal(replayed.length, 24)
  assert.deepEqual(replayed.slice(0, 8), shown.slice(0, 8))
  assert.equal(await page.locator('.replay .xterm-rows span.xterm-fg-2', {hasText: 'green line'}).count(), 1, 'colours replay too')
  await page.screenshot({path: screenshotPath('archive-replay.png')})
})
