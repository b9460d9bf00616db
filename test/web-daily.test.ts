// The page as a daily user sees it at a narrow desktop width and on a phone: the agent bar's
// program name, the notes toggle, the empty state, toasts and the notes sheet. Layout is checked
// from bounding boxes, as a person would see it.
import assert from 'node:assert/strict'
import {after, afterEach, before, test} from 'node:test'

import type {Browser, Locator, Page} from 'playwright-core'

import {sandbox, waitFor} from './helpers.js'
import {type Server, agentRow, assertNoPageErrors, launchBrowser, screenshotPath, startServer, typeCommand, waitForLine, watchPageErrors} from './web-helpers.js'

const box = sandbox('webdaily')
let server: Server
let browser: Browser
// What a user's agent command looks like when a wrapper sets its environment.
const COMMAND = 'env HOME=/tmp/maestro-daily-home LANG=C.UTF-8 /usr/bin/bash --norc --noprofile'

before(async () => {
  for (const name of ['daily-api', 'daily-web']) {
    const created = await box.cli(['new', name, '--cmd', COMMAND])
    assert.equal(created.code, 0, created.stderr)
  }
  server = await startServer(box.env, ['--port', '0'])
  browser = await launchBrowser()
})

afterEach(assertNoPageErrors)

after(async () => {
  await browser?.close()
  await server?.stop()
  box.cleanup()
})

async function newPage(options: Parameters<Browser['newContext']>[0]): Promise<Page> {
  const page = await (await browser.newContext(options)).newPage()
  watchPageErrors(page)
  await page.goto(server.url)
  return page
}

async function rect(locator: Locator) {
  const found = await locator.boundingBox()
  assert.ok(found, 'the element is laid out')
  return found
}

/** Whether an element shows its whole text (nothing cut off by an ellipsis). */
const wholeText = (locator: Locator) => locator.evaluate((element) => element.scrollWidth <= element.clientWidth + 1)

test('at 1000 px the agent bar names the program whole, the notes start collapsed behind a labelled toggle, and the terminal keeps its width', async () => {
  const page = await newPage({viewport: {width: 1000, height: 760}})
  try {
    await agentRow(page, 'daily-api').click()
    await page.locator('.term[data-agent="daily-api"]:not([hidden]) .xterm-screen').waitFor()
    const program = page.locator('.agent-bar .agent-program')
    assert.equal(await program.textContent(), 'bash')
    assert.equal(await program.getAttribute('title'), COMMAND, 'the full command on hover')
    assert.ok(await wholeText(program), 'the program name is not cut')
    assert.ok(await wholeText(page.locator('.agent-bar .agent-title')), 'the agent name is not cut')

    const toggle = page.getByRole('button', {name: 'Notes'})
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false')
    assert.equal(await page.locator('.notes').isVisible(), false, 'notes collapsed at first on a narrow screen')
    const size = await page.locator('.term:not([hidden])').getAttribute('data-size')
    assert.ok(Number(size?.split('x')[0]) >= 80, `the terminal has ${size}`)
    await page.screenshot({path: screenshotPath('daily-1000-notes-collapsed.png')})

    await toggle.click()
    await page.locator('.notes').waitFor()
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true')
    // With the notes open every button of the bar is still whole and inside the bar.
    const bar = await rect(page.locator('.agent-bar'))
    for (const name of ['Notes', 'Share', 'Rename', 'Kill']) {
      const button = await rect(page.locator('.agent-bar').getByRole('button', {name}))
      assert.ok(button.x >= bar.x && button.x + button.width <= bar.x + bar.width + 0.5, `${name} inside the bar`)
    }
    assert.equal(await program.textContent(), 'bash')
    assert.ok(await wholeText(program), 'the program name is not cut with the notes open')
    await page.screenshot({path: screenshotPath('daily-1000-notes-open.png')})
    // The choice is kept over a reload.
    await page.reload()
    await page.locator('.notes').waitFor()
  } finally {
    await page.context().close()
  }
})

test('on a phone the empty state names the list, toasts stay off the key bar, and the notes sheet leaves the input line in sight', async () => {
  const page = await newPage({viewport: {width: 390, height: 844}, isMobile: true, hasTouch: true, deviceScaleFactor: 2})
  try {
    const placeholder = page.locator('.placeholder')
    await waitFor(async () => ((await placeholder.textContent()) ?? '').includes('list'), 10_000, 'the empty state')
    assert.doesNotMatch((await placeholder.textContent()) ?? '', /Alt/, 'no keyboard shortcut a phone does not have')

    await agentRow(page, 'daily-web').tap()
    await page.locator('.term[data-agent="daily-web"]:not([hidden]) .xterm-screen').waitFor()
    await page.getByRole('button', {name: 'Notes'}).tap()
    await page.locator('.notes .note-text:not(.theirs)').waitFor()
    // The terminal shrinks to the space above the sheet; once refitted, the prompt is its last line.
    const notes = await rect(page.locator('.notes'))
    const term = await rect(page.locator('.term:not([hidden]) .xterm-screen'))
    assert.ok(term.y + term.height <= notes.y + 0.5, `the terminal (bottom ${term.y + term.height}) ends above the notes (top ${notes.y})`)
    await typeCommand(page, 'echo typed-$((3*3))')
    await waitForLine(page, 'typed-9')
    const cursor = await rect(page.locator('.term:not([hidden]) .xterm-cursor, .term:not([hidden]) .xterm-helper-textarea').first())
    assert.ok(cursor.y + cursor.height <= notes.y + 0.5 && cursor.y >= term.y, 'the input line is above the notes, in sight')
    await page.screenshot({path: screenshotPath('daily-phone-notes.png')})
    await page.getByRole('button', {name: 'Notes'}).tap()
    await page.locator('.notes').waitFor({state: 'hidden'})

    // A toast: the shown agent is killed elsewhere.
    const killed = await box.cli(['kill', 'daily-web'])
    assert.equal(killed.code, 0, killed.stderr)
    const toast = page.locator('.toast', {hasText: 'daily-web'})
    await toast.waitFor({timeout: 10_000})
    const keybar = await rect(page.locator('.keybar'))
    const shown = await rect(toast)
    assert.ok(shown.y + shown.height <= keybar.y || shown.y >= keybar.y + keybar.height, 'the toast does not cover the key bar')
    await page.screenshot({path: screenshotPath('daily-phone-toast.png')})
  } finally {
    await page.context().close()
  }
})
