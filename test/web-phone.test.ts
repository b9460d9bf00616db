// The page at phone size (drawer, key bar), and a read-only server, in a real browser.
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {once} from 'node:events'
import {after, afterEach, before, test} from 'node:test'

import type {Browser, Page} from 'playwright-core'
import WebSocket from 'ws'

import {sandbox, waitFor} from './helpers.js'
import {Viewer, terminalPath} from './server-helpers.js'
import {type Server, SCREENSHOTS, agentRow, launchBrowser, screenLines, screenshotPath, sizesAgree, startServer, typeCommand, waitForLine, assertNoPageErrors, watchPageErrors} from './web-helpers.js'

const box = sandbox('webphone')
let server: Server
let readonlyServer: Server
let browser: Browser

const paneCommand = (name: string) => box.tmux(['display', '-p', '-t', `=${name}:`, '#{pane_current_command}']).trim()

before(async () => {
  for (const name of ['phone-worker', 'phone-helper']) {
    const created = await box.cli(['new', name, '--cmd', 'bash --norc --noprofile'])
    assert.equal(created.code, 0, created.stderr)
  }
  ;[server, readonlyServer] = await Promise.all([startServer(box.env, ['--port', '0']), startServer(box.env, ['--port', '0', '--readonly'])])
  browser = await launchBrowser()
})

afterEach(assertNoPageErrors)

after(async () => {
  await browser?.close()
  await Promise.all([server?.stop(), readonlyServer?.stop()])
  box.cleanup()
})

const PHONE = {viewport: {width: 390, height: 844}, isMobile: true, hasTouch: true, deviceScaleFactor: 2}
const DESKTOP = {viewport: {width: 1100, height: 700}}

async function openPage(url: string, device: typeof PHONE | typeof DESKTOP): Promise<Page> {
  const context = await browser.newContext(device)
  const page = await context.newPage()
  watchPageErrors(page)
  await page.goto(url)
  return page
}

test('at 390×844 the agent list is a drawer and Ctrl then c on the key bar interrupts a running sleep', async () => {
  const page = await openPage(server.url, PHONE)
  // Nothing is open yet, so the drawer starts open.
  await agentRow(page, 'phone-worker').waitFor()
  await page.screenshot({path: screenshotPath('phone-drawer.png')})
  const drawerRight = async () => {
    const box = await page.locator('.sidebar').boundingBox()
    return box ? box.x + box.width : 0
  }
  assert.ok((await drawerRight()) > 200, 'the drawer is open')
  await agentRow(page, 'phone-worker').tap()
  // Slid off to the left once an agent is picked.
  await waitFor(async () => (await drawerRight()) <= 0, 3000, 'the drawer to close')
  await page.locator('.term[data-agent="phone-worker"]:not([hidden]) .xterm-screen').waitFor()
  const keybar = page.locator('.keybar')
  assert.equal(await keybar.isVisible(), true)
  for (const key of ['Esc', 'Tab', 'Ctrl', 'Alt', 'Left', 'Up', 'Down', 'Right']) {
    assert.equal(await keybar.getByRole('button', {name: key}).isVisible(), true, `the key bar has ${key}`)
  }

  const word = `phone-${randomBytes(3).toString('hex')}`
  await typeCommand(page, `echo ${word}; sleep 100`)
  await waitForLine(page, word)
  await waitFor(() => paneCommand('phone-worker') === 'sleep', 5000, 'sleep to run')
  const ctrl = keybar.getByRole('button', {name: 'Ctrl'})
  await ctrl.tap()
  assert.equal(await ctrl.getAttribute('aria-pressed'), 'true', 'Ctrl stays pressed for the next key')
  await page.keyboard.type('c')
  assert.equal(await ctrl.getAttribute('aria-pressed'), 'false', 'Ctrl is released after one key')
  await waitFor(() => paneCommand('phone-worker') !== 'sleep', 5000, 'the sleep to be interrupted')
  await waitFor(async () => (await screenLines(page)).some((line) => line.includes('^C')), 5000, 'the interrupt to show')
  await page.screenshot({path: screenshotPath('phone.png')})

  await page.locator('.agent-bar .menu').tap()
  await agentRow(page, 'phone-helper').tap()
  await page.locator('.term[data-agent="phone-helper"]:not([hidden]) .xterm-screen').waitFor()
  await page.locator('.notes-toggle').tap()
  await page.locator('.notes .note-text:not(.theirs)').fill('checked from the phone')
  await page.locator('.note-status', {hasText: 'Saved at'}).waitFor()
  assert.equal((await box.cli(['note', 'phone-helper'])).stdout.trim(), 'checked from the phone')
  await page.screenshot({path: screenshotPath('phone-notes.png')})
  console.log(`screenshots: ${SCREENSHOTS}`)
  await page.context().close()
})

test('a read-only server shows the badge, offers no changes, and typing reaches nothing', async () => {
  const page = await openPage(readonlyServer.url, DESKTOP)
  await page.locator('.badge.readonly').waitFor()
  assert.equal(await page.locator('.new-agent').isVisible(), false)
  await agentRow(page, 'phone-helper').click()
  await page.locator('.term[data-agent="phone-helper"]:not([hidden]) .xterm-screen').waitFor()
  assert.equal(await page.locator('.agent-actions').isVisible(), false)
  assert.equal(await page.locator('.keybar').isVisible(), false, 'no key bar when nothing can be typed')
  assert.equal(await page.locator('.notes .note-text:not(.theirs)').getAttribute('readonly'), '')
  const marker = `readonly-${randomBytes(3).toString('hex')}`
  await typeCommand(page, `echo ${marker}`)
  // Said once, not on every key.
  await page.locator('.toast', {hasText: 'read-only'}).waitFor()
  await typeCommand(page, 'more')
  assert.equal(await page.locator('.toast', {hasText: 'read-only'}).count(), 1)
  // The page sends no input here, so also send it as a hostile page would: frames on a terminal
  // socket of the same read-only session.
  const origin = new URL(readonlyServer.url).origin
  const cookie = (await page.context().cookies(origin)).map(({name, value}) => `${name}=${value}`).join('; ')
  const ws = new WebSocket(`${origin.replace(/^http/, 'ws')}${terminalPath('phone-helper')}`, {headers: {cookie}, origin})
  const viewer = new Viewer(ws)
  await once(ws, 'open')
  viewer.send({type: 'input', data: `echo ${marker}-ws\r`})
  // Something that does reach the agent after those frames: once it shows, they had their chance.
  const after = `after-${marker}`
  box.tmux(['send-keys', '-t', '=phone-helper:', '-l', after])
  await viewer.waitForText(after, 15_000)
  assert.equal(box.tmux(['capture-pane', '-p', '-t', '=phone-helper:']).replaceAll(after, '').includes(marker), false, 'nothing typed nor sent reached the agent')
  await viewer.close()
  await page.screenshot({path: screenshotPath('readonly.png')})
  await page.context().close()
})

// A plain restart keeps the page signed in (server-session); --sign-out-all ends its session.
test('a server restarted with --sign-out-all tells the page to sign in again', async () => {
  const page = await openPage(server.url, DESKTOP)
  try {
    await agentRow(page, 'phone-worker').waitFor()
    await server.stop()
    server = await startServer({...box.env, MAESTRO_TOKEN: randomBytes(24).toString('base64url')}, ['--port', String(server.port), '--sign-out-all'])
    await page.locator('.banner[data-kind="signed-out"]', {hasText: 'open the link maestro serve printed'}).waitFor({timeout: 15_000})
    await page.screenshot({path: screenshotPath('signed-out.png')})
  } finally {
    await page.context().close()
  }
})

// The server attaches read-only viewers at the window's size (tmux lets a lone ignore-size client
// resize the window) and tells the page that size first.
test('a read-only terminal is drawn at the size of its tmux client', async () => {
  const page = await openPage(readonlyServer.url, DESKTOP)
  await agentRow(page, 'phone-worker').click()
  await page.locator('.term[data-agent="phone-worker"]:not([hidden]) .xterm-screen').waitFor()
  await waitFor(() => sizesAgree(page, box.tmux, 'phone-worker'), 3000, 'the terminal and its tmux client to have one size').finally(() => page.context().close())
})
