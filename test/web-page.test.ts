// The page in a real browser against a real `maestro serve` and real tmux agents (desktop size).
import assert from 'node:assert/strict'
import {randomBytes} from 'node:crypto'
import {after, afterEach, before, test} from 'node:test'

import type {Browser, BrowserContext, Page, WebSocket} from 'playwright-core'

import type {Agent} from '../src/shared/agent.js'
import {sandbox, waitFor} from './helpers.js'
import {type Server, SCREENSHOTS, agentRow, launchBrowser, screenLines, screenshotPath, sizesAgree, startServer, typeCommand, waitForLine, assertNoPageErrors, watchPageErrors} from './web-helpers.js'

const box = sandbox('webpage')
// A fixed token lets a restarted server accept the cookie the page already holds.
const env = {...box.env, MAESTRO_TOKEN: randomBytes(24).toString('base64url')}
let server: Server
let browser: Browser
let context: BrowserContext
let page: Page

const AGENTS = ['shop-frontend-cart', 'shop-frontend-auth', 'shop-api', 'blog', 'ops']

async function listed(): Promise<Agent[]> {
  const result = await box.cli(['ls', '--json'])
  assert.equal(result.code, 0, result.stderr)
  return JSON.parse(result.stdout) as Agent[]
}

/** Shows the agent's terminal and waits until its socket is open: keys typed before that go nowhere. */
async function open(name: string): Promise<void> {
  await agentRow(page, name).click()
  await page.locator(`.term[data-agent="${name}"]:not([hidden]) .xterm-screen`).waitFor()
  await page.locator(`.term[data-agent="${name}"] .term-status`).waitFor({state: 'hidden'})
}

before(async () => {
  for (const name of AGENTS) {
    const created = await box.cli(['new', name, '--cmd', 'bash --norc --noprofile'])
    assert.equal(created.code, 0, created.stderr)
  }
  server = await startServer(env, ['--port', '0'])
  browser = await launchBrowser()
  context = await browser.newContext({viewport: {width: 1280, height: 800}})
  // Records the notifications the page shows; the real ones go to the desktop, out of the test's reach.
  await context.addInitScript(() => {
    const shown: string[] = []
    const violations: string[] = []
    Object.assign(window, {shownNotifications: shown, cspViolations: violations})
    document.addEventListener('securitypolicyviolation', (event) => violations.push(`${event.violatedDirective} ${event.blockedURI}`))
    window.Notification = class extends window.Notification {
      constructor(title: string, options?: NotificationOptions) {
        super(title, options)
        shown.push(title)
      }
    }
  })
  await context.grantPermissions(['notifications', 'clipboard-read', 'clipboard-write'], {origin: new URL(server.url).origin})
  page = await context.newPage()
  watchPageErrors(page)
  // Signed in and listing before any test, so that each test passes when run on its own.
  await page.goto(server.url)
  await agentRow(page, 'ops').waitFor()
})

afterEach(assertNoPageErrors)

after(async () => {
  await browser?.close()
  await server?.stop()
  box.cleanup()
})

test('the printed URL signs in, drops the token from the address bar and sets an HttpOnly cookie', async () => {
  await page.goto(server.url)
  assert.equal(page.url(), `http://localhost:${server.port}/`)
  const cookies = await context.cookies()
  const session = cookies.find((cookie) => cookie.name === `maestro_session_${server.port}`)
  assert.ok(session, `cookies: ${cookies.map((cookie) => cookie.name).join(', ')}`)
  assert.equal(session.httpOnly, true)
  assert.equal(await page.title(), 'maestro')
})

test('the sidebar shows every agent under its hyphen groups, each top group in its own colour', async () => {
  await agentRow(page, 'ops').waitFor()
  const shop = page.locator('.group:has(> [data-group="shop"])')
  const frontend = shop.locator('.group:has(> [data-group="shop-frontend"])')
  assert.deepEqual(await frontend.locator('button.agent').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name'))), ['shop-frontend-auth', 'shop-frontend-cart'])
  assert.deepEqual(await shop.locator('button.agent').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-name'))), ['shop-frontend-auth', 'shop-frontend-cart', 'shop-api'])
  assert.equal(await agentRow(page, 'shop-api').locator('.agent-name').textContent(), 'api')
  const colour = (name: string) => agentRow(page, name).evaluate((row) => getComputedStyle(row).getPropertyValue('--group'))
  assert.equal(await colour('shop-api'), await colour('shop-frontend-cart'))
  assert.notEqual(await colour('shop-api'), await colour('blog'))

  await shop.locator('> .group-head').click()
  assert.equal(await agentRow(page, 'shop-api').isVisible(), false, 'a collapsed group hides its agents')
  await shop.locator('> .group-head').click()
  assert.equal(await agentRow(page, 'shop-api').isVisible(), true)

  await page.locator('.filter').fill('FRONT')
  await waitFor(async () => (await page.locator('.sidebar button.agent:visible').count()) === 2, 3000, 'the filter to leave two agents')
  await page.locator('.filter').fill('')
})

test('typing in the terminal reaches the agent and its output is drawn', async () => {
  await open('shop-api')
  const word = `hello-${randomBytes(4).toString('hex')}`
  // The shell computes part of the line, so the output differs from the echoed command.
  await typeCommand(page, `echo ${word}-$((6*7))`)
  await waitForLine(page, `${word}-42`)
  await waitFor(() => sizesAgree(page, box.tmux, 'shop-api'), 5000, 'the terminal and its tmux client to have one size')
  await waitFor(async () => (await agentRow(page, 'shop-api').locator('.viewers').textContent()) === '1', 5000, 'one viewer to be counted')
})

test('switching to another agent and back keeps the terminal as it was', async () => {
  await open('shop-api')
  const marker = `kept-${randomBytes(3).toString('hex')}`
  await typeCommand(page, `echo ${marker}`)
  await waitForLine(page, marker)
  await open('blog')
  assert.equal((await screenLines(page)).some((line) => line.trim() === marker), false, 'the other agent shows its own screen')
  await page.keyboard.press('Alt+ArrowUp')
  await page.locator('.term[data-agent="shop-api"]:not([hidden])').waitFor()
  assert.ok((await screenLines(page)).some((line) => line.trim() === marker))
})

test('an agent’s earlier output is in the terminal’s scrollback when it is opened, and a reconnection does not add it again', async () => {
  const created = await box.cli(['new', 'history-maker', '--cmd', `sh -c 'seq -f "line %g" 1 300; exec sleep 1000'`])
  assert.equal(created.code, 0, created.stderr)
  await waitFor(() => box.tmux(['capture-pane', '-p', '-t', '=history-maker:']).includes('line 300'), 10_000, 'the agent to print its lines')
  const sockets: string[] = []
  let histories = 0
  const watch = (ws: WebSocket) => {
    if (!ws.url().includes('/api/agents/history-maker/terminal')) return
    sockets.push(ws.url())
    ws.on('framereceived', ({payload}) => void (typeof payload === 'string' && JSON.parse(payload).type === 'history' && histories++))
  }
  page.on('websocket', watch)
  await agentRow(page, 'history-maker').click()
  await waitForLine(page, 'line 300')
  await page.locator('.term:not([hidden]) .xterm-screen').hover()
  let shown: string[] = []
  const top = await waitFor(async () => {
    await page.mouse.wheel(0, -20_000)
    shown = await screenLines(page)
    return shown.includes('line 1') && shown
  }, 20_000, 'the first line of the history in the scrollback').catch((error: Error) => {
    throw new Error(`${error.message}; the terminal showed ${JSON.stringify(shown.slice(0, 5))}`)
  })
  assert.deepEqual(top.slice(0, 3), ['line 1', 'line 2', 'line 3'])
  // Its tmux client ends under it (the agent stays): the page reconnects, without asking for the history again.
  box.tmux(['detach-client', '-s', '=history-maker'])
  await waitFor(() => sockets.length === 2, 20_000, 'the terminal to reconnect')
  await page.locator('.term[data-agent="history-maker"] .term-status').waitFor({state: 'hidden'})
  page.off('websocket', watch)
  assert.match(sockets[0], /[?&]history=1(&|$)/)
  assert.doesNotMatch(sockets[1], /history=/)
  assert.equal(histories, 1)
  assert.equal((await box.cli(['kill', 'history-maker'])).code, 0)
})

test('a note typed in the page is saved on its own, read by maestro note, and kept over a reload', async () => {
  await open('shop-api')
  const text = `owns the orders API ${randomBytes(3).toString('hex')}`
  await page.locator('.notes .note-text:not(.theirs)').fill(text)
  await page.locator('.note-status', {hasText: 'Saved at'}).waitFor({timeout: 5000})
  const cli = await box.cli(['note', 'shop-api'])
  assert.equal(cli.stdout.trim(), text)
  await page.reload()
  await page.locator('.notes .note-text:not(.theirs)').waitFor()
  await waitFor(async () => (await page.locator('.notes .note-text:not(.theirs)').inputValue()) === text, 5000, 'the note after a reload')
})

test('a note changed elsewhere during an edit shows both versions, and keeping both loses neither', async () => {
  await open('blog')
  const textarea = page.locator('.notes .note-text:not(.theirs)')
  await page.locator('.note-status').filter({hasNotText: 'Loading'}).waitFor()
  // Hold the page's save until the CLI has written, as a slow network would.
  let release!: () => void
  const written = new Promise<void>((resolve) => (release = resolve))
  await page.route('**/api/agents/blog/note', async (route) => {
    if (route.request().method() === 'PUT') await written
    await route.continue()
  })
  await textarea.fill('mine: draft the launch post')
  await page.locator('.note-status', {hasText: 'Saving'}).waitFor()
  const cli = await box.cli(['note', 'blog', 'theirs: review comments'])
  assert.equal(cli.code, 0, cli.stderr)
  release()
  await page.locator('.conflict').waitFor()
  assert.equal(await textarea.inputValue(), 'mine: draft the launch post')
  assert.equal(await page.locator('.conflict .theirs').inputValue(), 'theirs: review comments')
  await page.screenshot({path: screenshotPath('note-conflict.png')})
  await page.unroute('**/api/agents/blog/note')
  await page.locator('.conflict button', {hasText: 'Keep both'}).click()
  await page.locator('.note-status', {hasText: 'Saved at'}).waitFor()
  const merged = (await box.cli(['note', 'blog'])).stdout
  assert.match(merged, /mine: draft the launch post/)
  assert.match(merged, /theirs: review comments/)
})

test('create, rename and kill from the page, with the CLI’s name rule, and maestro ls agrees', async () => {
  await page.locator('.new-agent').click()
  const dialog = page.locator('dialog[open]')
  await dialog.locator('input[name="name"]').fill('bad name!')
  await dialog.locator('button[type="submit"]').click()
  assert.match((await dialog.locator('.dialog-error').textContent()) ?? '', /^invalid agent name "bad name!": use 1-64 letters, digits/)
  await page.screenshot({path: screenshotPath('new-agent.png')})
  await dialog.locator('input[name="name"]').fill('blog')
  await dialog.locator('button[type="submit"]').click()
  await dialog.locator('.dialog-error', {hasText: 'agent "blog" already exists'}).waitFor()
  await dialog.locator('input[name="name"]').fill('web-made')
  await dialog.locator('input[name="cmd"]').fill('bash --norc --noprofile')
  await dialog.locator('button[type="submit"]').click()
  await page.locator('.term[data-agent="web-made"]:not([hidden])').waitFor()
  assert.ok((await listed()).some((agent) => agent.name === 'web-made'))

  await page.locator('.agent-actions .rename').click()
  await dialog.locator('input[name="name"]').fill('web-renamed')
  await dialog.locator('button[type="submit"]').click()
  await agentRow(page, 'web-renamed').waitFor()
  assert.equal(await agentRow(page, 'web-made').count(), 0)
  assert.deepEqual((await listed()).filter((agent) => agent.name.startsWith('web-')).map((agent) => agent.name), ['web-renamed'])

  await page.locator('.agent-actions .kill').click()
  await dialog.locator('text=scrollback and note are saved to the archive').waitFor()
  await dialog.locator('button[type="submit"]').click()
  await dialog.waitFor({state: 'detached'})
  const toast = await page.locator('.toast', {hasText: 'Killed web-renamed'}).textContent()
  assert.match(toast ?? '', /Archived in \/\S+/)
  await agentRow(page, 'web-renamed').waitFor({state: 'detached'})
  assert.equal(await page.locator('.toast', {hasText: 'elsewhere'}).count(), 0, 'a kill made here is not announced as made elsewhere')
  assert.equal((await listed()).some((agent) => agent.name.startsWith('web-')), false)
})

test('an agent waiting for input is listed on top with its mark, counted in the title and announced', async () => {
  const bell = page.getByRole('button', {name: 'Notify me when an agent waits for input'})
  await bell.click()
  await waitFor(async () => (await bell.getAttribute('aria-pressed')) === 'true', 3000, 'notifications to be on')
  // The row is updated in place, never rebuilt: the same node moves to the top.
  const before = await agentRow(page, 'ops').elementHandle()
  const reported = await box.cli(['report', 'waiting', '--agent', 'ops', '--message', 'Allow edit to deploy.yml?'])
  assert.equal(reported.code, 0, reported.stderr)
  const row = page.locator('.waiting button.agent[data-name="ops"]')
  await row.waitFor({timeout: 5000})
  assert.equal(await page.locator('.sidebar button.agent').first().getAttribute('data-name'), 'ops')
  assert.equal(await row.getAttribute('data-state'), 'waiting')
  assert.match((await row.textContent()) ?? '', /waiting.*Allow edit to deploy\.yml\?/)
  assert.equal(await page.title(), '(1) maestro')
  assert.equal(await row.evaluate((node, old) => node === old, before), true, 'the row was moved, not rebuilt')
  await waitFor(() => page.evaluate(() => (window as unknown as {shownNotifications: string[]}).shownNotifications.includes('ops is waiting for you')), 3000, 'a notification')
})

test('an agent whose program ended is marked exited, and its terminal says how it ended', async () => {
  const created = await box.cli(['new', 'done-job', '--cmd', 'sh -c "exit 3"'])
  assert.equal(created.code, 0, created.stderr)
  const row = agentRow(page, 'done-job')
  await waitFor(async () => (await row.getAttribute('data-state')) === 'exited', 10_000, 'the exited state')
  assert.match((await row.locator('.agent-state').textContent()) ?? '', /^exited \(3\)/)
  await row.click()
  await page.locator('.term[data-agent="done-job"] .term-status', {hasText: 'The agent exited with code 3.'}).waitFor({timeout: 10_000})
  assert.equal((await box.cli(['kill', 'done-job'])).code, 0)
  await row.waitFor({state: 'detached'})
})

test('shortcuts focus the filter and move between agents, and ? lists them', async () => {
  await open('blog')
  await page.keyboard.press('Alt+/')
  assert.equal(await page.evaluate(() => document.activeElement?.classList.contains('filter')), true)
  await page.keyboard.press('Escape')
  await page.locator('.sidebar').click({position: {x: 120, y: 700}})
  await page.keyboard.press('?')
  await page.locator('dialog.help[open]', {hasText: 'Keyboard shortcuts'}).waitFor()
  await page.keyboard.press('Escape')
  await page.locator('dialog.help[open]').waitFor({state: 'detached'})
  await page.keyboard.press('j')
  await page.locator('.term[data-agent="ops"]:not([hidden])').waitFor()
  await page.keyboard.press('Alt+ArrowUp')
  await page.locator('.term[data-agent="blog"]:not([hidden])').waitFor()
})

test('a link printed by an agent opens in a new tab that cannot reach back to the page', async () => {
  await open('blog')
  const link = `${new URL(server.url).origin}/api/session`
  await typeCommand(page, `clear; echo ${link}`)
  const lines = await waitForLine(page, link)
  const row = lines.findIndex((line) => line.trim() === link)
  const screen = (await page.locator('.term:not([hidden]) .xterm-screen').boundingBox())!
  const cellWidth = screen.width / Number(box.tmux(['list-clients', '-t', '=blog', '-F', '#{client_width}']).trim())
  const cellHeight = screen.height / lines.length
  const x = screen.x + cellWidth * 5.5
  const y = screen.y + cellHeight * (row + 0.5)
  await page.mouse.move(x, y)
  const [tab] = await Promise.all([context.waitForEvent('page'), page.mouse.click(x, y)])
  await tab.waitForLoadState()
  assert.equal(tab.url(), link)
  assert.equal(await tab.evaluate(() => window.opener), null)
  await tab.close()
})

test('copy and paste work in the terminal', async () => {
  await open('blog')
  const word = `copied${randomBytes(3).toString('hex')}`
  await typeCommand(page, `clear; echo ${word}`)
  const lines = await waitForLine(page, word)
  const screen = (await page.locator('.term:not([hidden]) .xterm-screen').boundingBox())!
  const cellHeight = screen.height / lines.length
  await page.mouse.dblclick(screen.x + 20, screen.y + cellHeight * (lines.findIndex((line) => line.trim() === word) + 0.5))
  await page.keyboard.press('Control+Shift+C')
  await waitFor(async () => (await page.evaluate(() => navigator.clipboard.readText())) === word, 3000, 'the selection on the clipboard')

  await page.evaluate(() => navigator.clipboard.writeText('echo pasted-$((20+1))'))
  await page.keyboard.press('Control+V')
  await page.keyboard.press('Enter')
  await waitForLine(page, 'pasted-21')
})

test('the terminal follows the window: a narrower window gives the agent fewer columns', async () => {
  await open('blog')
  const columns = () => Number(box.tmux(['list-clients', '-t', '=blog', '-F', '#{client_width}']).trim())
  const before = columns()
  await page.setViewportSize({width: 1000, height: 800})
  try {
    await waitFor(() => columns() < before, 5000, 'fewer columns')
    await waitFor(() => sizesAgree(page, box.tmux, 'blog'), 5000, 'the terminal and its tmux client to have one size')
  } finally {
    await page.setViewportSize({width: 1280, height: 800})
  }
})

test('an agent cannot write the clipboard with OSC 52', async () => {
  await open('blog')
  await page.evaluate(() => navigator.clipboard.writeText('the user’s own clipboard'))
  // tmux passes OSC 52 on to its clients (set-clipboard external), so this reaches the page.
  await typeCommand(page, `printf '\\033]52;c;%s\\007' "$(printf pwned | base64)"; echo osc-done`)
  await waitForLine(page, 'osc-done')
  await page.waitForTimeout(300)
  assert.equal(await page.evaluate(() => navigator.clipboard.readText()), 'the user’s own clipboard')
})

test('when the server restarts on the same port the page says so, reconnects and reattaches the terminal', async () => {
  await open('shop-api')
  await server.stop()
  await page.locator('.banner', {hasText: 'Connection to maestro serve lost'}).waitFor({timeout: 5000})
  // Nothing that changes an agent can be clicked meanwhile, and only the banner counts down.
  for (const name of ['Rename', 'Kill', 'Share']) assert.equal(await page.locator('.agent-bar').getByRole('button', {name}).isDisabled(), true, `${name} is disabled`)
  assert.equal(await page.locator('.new-agent').isDisabled(), true)
  assert.match((await page.locator('.banner').textContent()) ?? '', /reconnecting in \d+ s/)
  await page.locator('.term[data-agent="shop-api"] .term-status', {hasText: 'Disconnected'}).waitFor({timeout: 5000})
  assert.doesNotMatch((await page.locator('.term[data-agent="shop-api"] .term-status').textContent()) ?? '', /\d/, 'no second countdown')
  await page.screenshot({path: screenshotPath('disconnected.png')})
  server = await startServer(env, ['--port', String(server.port)])
  await page.locator('.banner').waitFor({state: 'hidden', timeout: 15_000})
  await waitFor(() => page.locator('.agent-bar').getByRole('button', {name: 'Kill'}).isEnabled(), 5000, 'Kill to be enabled again')
  await page.locator('.term[data-agent="shop-api"] .term-status').waitFor({state: 'hidden', timeout: 10_000})
  const word = `back-${randomBytes(3).toString('hex')}`
  await typeCommand(page, `echo ${word}-$((1+1))`)
  await waitForLine(page, `${word}-2`)
  // One agent waiting, for the screenshot.
  await box.cli(['report', 'waiting', '--agent', 'blog', '--message', 'Run the migrations? (y/n)'])
  await page.locator('.waiting button.agent[data-name="blog"]').waitFor()
  await page.locator('.toast button').evaluateAll((buttons) => buttons.forEach((button) => (button as HTMLButtonElement).click()))
  assert.deepEqual(await page.evaluate(() => (window as unknown as {cspViolations: string[]}).cspViolations), [], 'nothing the server’s CSP blocks')
  await page.screenshot({path: screenshotPath('desktop.png')})
  console.log(`screenshots: ${SCREENSHOTS}`)
})

test('the terminal shows no tmux status bar, and 24-bit colour reaches it unrounded', async () => {
  await open('ops')
  const marker = `rgb-${randomBytes(3).toString('hex')}`
  await typeCommand(page, `echo "$COLORTERM"; printf '\\033[38;2;255;0;128m%s\\033[0m\\n' ${marker}`)
  await waitForLine(page, marker)
  await waitForLine(page, 'truecolor')
  // The window takes every row of the viewer's tmux client: no row is left to a status line.
  await waitFor(() => sizesAgree(page, box.tmux, 'ops'), 5000, 'the terminal and its tmux client to have one size')
  const [clientRows, windowRows] = box.tmux(['list-clients', '-t', '=ops', '-F', '#{client_height} #{window_height}']).trim().split(' ')
  assert.equal(windowRows, clientRows)
  const lines = await screenLines(page)
  assert.ok(!lines.some((line) => /\[ops\]|^\[\w+\] \d+:/.test(line)), `a status line: ${lines.filter(Boolean).at(-1)}`)
  // xterm's DOM renderer draws an RGB foreground as an inline colour; a 256-colour one by class.
  const colour = await page.evaluate((text) => {
    const span = [...document.querySelectorAll('.term:not([hidden]) .xterm-rows span')].find((each) => each.textContent === text)
    return span ? getComputedStyle(span).color : 'missing'
  }, marker)
  assert.equal(colour, 'rgb(255, 0, 128)')
  await page.screenshot({path: screenshotPath('terminal-no-status-bar.png')})
})
