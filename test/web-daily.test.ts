// The page as a daily user sees it at a narrow desktop width and on a phone: the agent bar's
// program name, the notes toggle, the empty state, toasts, the notes sheet, and a window drawn
// scaled for a smaller viewer (its mouse selection and clicks). Layout is checked from bounding
// boxes, as a person would see it.
import assert from 'node:assert/strict'
import {after, afterEach, before, test} from 'node:test'

import type {Browser, Locator, Page} from 'playwright-core'

import {sandbox, waitFor} from './helpers.js'
import {type Server, agentRow, assertNoPageErrors, launchBrowser, screenLines, screenshotPath, startServer, typeCommand, waitForLine, watchPageErrors} from './web-helpers.js'

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
    await waitFor(async () => ((await placeholder.textContent()) ?? '').includes('list'), 30_000, 'the empty state')
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

test('an agent killed from the CLI while shown is announced as soon as its terminal hears it is gone, not at the next list', async () => {
  const created = await box.cli(['new', 'daily-doomed', '--cmd', 'bash --norc --noprofile'])
  assert.equal(created.code, 0, created.stderr)
  const page = await (await browser.newContext({viewport: {width: 1280, height: 800}})).newPage()
  watchPageErrors(page)
  // The list of agents is held back from the kill on, as when the server's watcher is busy
  // reading other agents: what announces the kill can only be the terminal's own socket.
  let holding = false
  await page.routeWebSocket(/\/api\/events/, (ws) => {
    const server = ws.connectToServer()
    server.onMessage((message) => holding || ws.send(message))
  })
  try {
    await page.goto(server.url)
    await agentRow(page, 'daily-doomed').click()
    await typeCommand(page, 'echo doomed-$((5*5))')
    await waitForLine(page, 'doomed-25')
    holding = true
    const killed = await box.cli(['kill', 'daily-doomed'])
    assert.equal(killed.code, 0, killed.stderr)
    const toast = page.locator('.toast', {hasText: 'daily-doomed'})
    await toast.waitFor({timeout: 10_000})
    await agentRow(page, 'daily-doomed').waitFor({state: 'detached'})
    assert.equal(await page.locator('.term[data-agent="daily-doomed"]').count(), 0, 'its terminal is closed')
    await page.screenshot({path: screenshotPath('killed-elsewhere.png')})
    // The lists come through again (a new agent shows): they confirm the kill and announce nothing twice.
    holding = false
    const next = await box.cli(['new', 'daily-next', '--cmd', 'bash --norc --noprofile'])
    assert.equal(next.code, 0, next.stderr)
    await agentRow(page, 'daily-next').waitFor()
    assert.equal(await agentRow(page, 'daily-doomed').count(), 0)
    assert.equal(await toast.count(), 1)
  } finally {
    await page.context().close()
  }
})

test('two viewers of different sizes: the window follows the one that typed last, and each draws it whole, never cropped', async () => {
  const created = await box.cli(['new', 'daily-shared', '--cmd', 'bash --norc --noprofile'])
  assert.equal(created.code, 0, created.stderr)
  const window = () => box.tmux(['display', '-p', '-t', '=daily-shared:', '#{window_width}x#{window_height}']).trim()
  const clients = () => box.tmux(['list-clients', '-t', '=daily-shared', '-F', '#{client_width}x#{client_height}']).trim().split('\n').sort()
  const size = async (page: Page) => (await page.locator('.term[data-agent="daily-shared"]').getAttribute('data-size')) ?? ''
  /** The drawn terminal lies inside the viewer's terminal area: nothing is cut off at an edge. */
  const whole = async (page: Page) => {
    const area = await rect(page.locator('.term[data-agent="daily-shared"] .term-screen'))
    const drawn = await rect(page.locator('.term[data-agent="daily-shared"] .xterm-screen'))
    return drawn.x >= area.x - 0.5 && drawn.y >= area.y - 0.5 && drawn.x + drawn.width <= area.x + area.width + 0.5 && drawn.y + drawn.height <= area.y + area.height + 0.5
  }
  const desk = await newPage({viewport: {width: 1280, height: 800}})
  const phone = await newPage({viewport: {width: 390, height: 700}, isMobile: true, hasTouch: true})
  try {
    await agentRow(desk, 'daily-shared').click()
    await desk.locator('.term[data-agent="daily-shared"]:not([hidden]) .xterm-screen').waitFor()
    // A rule as wide as the window shows in the screenshots how much of the phone it covers.
    await typeCommand(desk, "echo desk-$((1+1)); printf '=%.0s' $(seq $(tput cols))")
    await waitForLine(desk, 'desk-2')
    const deskSize = await size(desk)
    await waitFor(() => window() === deskSize, 5000, `the window to be the desktop's ${deskSize}`)

    // Opening the agent on the phone does not shrink it for the desktop: the phone draws the
    // desktop's window, scaled down to its width.
    await agentRow(phone, 'daily-shared').tap()
    await phone.locator('.term[data-agent="daily-shared"]:not([hidden]) .xterm-screen').waitFor()
    await waitFor(async () => (await size(phone)) === deskSize, 5000, 'the phone to draw the desktop window')
    assert.equal(window(), deskSize)
    await waitFor(() => whole(phone), 5000, 'the phone to show the whole window')
    assert.ok(Number(await phone.locator('.term[data-agent="daily-shared"]').getAttribute('data-scale')) < 1, 'scaled down')
    await waitForLine(phone, 'desk-2')
    // Scaled to the phone's width: the terminal as drawn (its grid, and its box with the background
    // and scrollbar) spans the terminal area, not a strip of it.
    const area = await rect(phone.locator('.term[data-agent="daily-shared"] .term-screen'))
    for (const part of ['.xterm', '.xterm-screen']) {
      const drawn = await rect(phone.locator(`.term[data-agent="daily-shared"] ${part}`))
      assert.ok(drawn.width >= 0.95 * area.width, `${part} is ${drawn.width} px wide of ${area.width}`)
    }
    await phone.screenshot({path: screenshotPath('viewers-phone-follows-desktop.png')})

    // The phone types: the window takes its size, and the desktop draws that smaller window.
    await typeCommand(phone, 'echo phone-$((2+2))')
    await waitForLine(phone, 'phone-4')
    const phoneSize = await size(phone)
    assert.notEqual(phoneSize, deskSize)
    await waitFor(() => window() === phoneSize, 5000, `the window to be the phone's ${phoneSize}`)
    await waitFor(async () => (await size(desk)) === phoneSize, 5000, 'the desktop to draw the phone window')
    assert.ok(await whole(desk), 'the desktop shows the whole window')
    await waitForLine(desk, 'phone-4')
    // Both tmux clients have the window's size: tmux crops nothing.
    await waitFor(() => clients().every((client) => client === phoneSize), 5000, 'both clients at the window size')
    await desk.screenshot({path: screenshotPath('viewers-desktop-follows-phone.png')})

    // The desktop types again and has its own size back; the phone follows.
    await typeCommand(desk, 'echo desk-$((3+3))')
    await waitFor(() => window() === deskSize, 5000, 'the window to be the desktop size again')
    await waitFor(async () => (await size(phone)) === deskSize && (await whole(phone)), 5000, 'the phone to draw it whole again')
    await waitForLine(phone, 'desk-6')
    await waitFor(() => clients().every((client) => client === deskSize), 5000, 'both clients at the window size')
  } finally {
    await Promise.all([desk.context().close(), phone.context().close()])
  }
})

/** Where the shown terminal draws `text` on the screen (transforms included), and the row it is on. */
async function drawnAt(page: Page, text: string) {
  const found = await page.evaluate((text) => {
    const rows = [...document.querySelectorAll('.term:not([hidden]) .xterm-rows > div')]
    for (const [row, element] of rows.entries()) {
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT)
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const at = node.textContent!.indexOf(text)
        if (at < 0) continue
        const range = document.createRange()
        range.setStart(node, at)
        range.setEnd(node, at + text.length)
        const {left, right, top, bottom} = range.getBoundingClientRect()
        return {left, right, y: (top + bottom) / 2, row, cell: (right - left) / text.length}
      }
    }
    return undefined
  }, text)
  assert.ok(found, `the terminal shows ${text}`)
  return found
}

async function open(page: Page, name: string): Promise<void> {
  await agentRow(page, name).click()
  await page.locator(`.term[data-agent="${name}"]:not([hidden]) .xterm-screen`).waitFor()
}

// The desktop's window is wider than the small viewer's terminal area: the small viewer draws it scaled.
async function scaledViewers(name: string, command: string) {
  const created = await box.cli(['new', name, '--cmd', 'bash --norc --noprofile'])
  assert.equal(created.code, 0, created.stderr)
  const desk = await newPage({viewport: {width: 1600, height: 900}})
  const small = await newPage({viewport: {width: 900, height: 600}, permissions: ['clipboard-read', 'clipboard-write']})
  await open(desk, name)
  await typeCommand(desk, command)
  const deskSize = await desk.locator(`.term[data-agent="${name}"]`).getAttribute('data-size')
  await open(small, name)
  const term = small.locator(`.term[data-agent="${name}"]`)
  await waitFor(async () => (await term.getAttribute('data-size')) === deskSize, 5000, 'the small viewer to draw the desktop window')
  return {desk, small, scale: async () => Number(await term.getAttribute('data-scale')), close: () => Promise.all([desk.context().close(), small.context().close()])}
}

// A word far from the top left corner, where a pointer read at the wrong scale misses it by many cells.
const FAR_WORD = "echo; echo; echo; echo $(printf 'lorem %.0s' {1..10})pick-$((6*7)) dolor sit amet"

test('in a scaled terminal, dragging across a word selects exactly that word, and copying gives it', async () => {
  const viewers = await scaledViewers('scaled-select', FAR_WORD)
  try {
    await waitForLine(viewers.desk, 'lorem lorem lorem lorem lorem lorem lorem lorem lorem lorem pick-42 dolor sit amet')
    const {small} = viewers
    await waitFor(async () => (await screenLines(small)).some((line) => line.includes('pick-42')), 5000, 'the small viewer to show the word')
    const scale = await viewers.scale()
    assert.ok(scale < 0.8, `drawn scaled (${scale})`)
    // From inside the first letter's left half to inside the last letter's right half.
    const word = await drawnAt(small, 'pick-42')
    await small.mouse.move(word.left + word.cell / 4, word.y)
    await small.mouse.down()
    await small.mouse.move(word.right - word.cell / 4, word.y, {steps: 8})
    await small.mouse.up()
    await small.screenshot({path: screenshotPath('scaled-selection.png')})
    await small.keyboard.press('Control+Shift+C')
    // The page writes the clipboard asynchronously; the context's clipboard starts empty.
    const copied = await waitFor(() => small.evaluate(() => navigator.clipboard.readText()), 3000, 'the copy to reach the clipboard')
    assert.equal(copied, 'pick-42')
    assert.equal(await viewers.scale(), scale, 'selecting and copying are not typing: the view stays scaled')
  } finally {
    await viewers.close()
  }
})

test('in a scaled terminal, a click reported to the program names the cell under the pointer', async () => {
  // The program asks for mouse reports (SGR encoding) and prints the first one it gets.
  const program = `${FAR_WORD}; printf '\\e[?1000h\\e[?1006h'; IFS= read -rs -d M report; printf '\\e[?1000l\\e[?1006l'; echo "clicked \${report#*<}"`
  const viewers = await scaledViewers('scaled-click', program)
  try {
    const {small} = viewers
    await waitFor(async () => (await screenLines(small)).some((line) => line.includes('pick-42')), 5000, 'the small viewer to show the word')
    assert.ok((await viewers.scale()) < 0.8, 'drawn scaled')
    const word = await drawnAt(small, 'pick-42')
    // The middle of the word's third letter, "c": column 63 (1-based) of its row.
    await small.mouse.click(word.left + word.cell * 2.5, word.y)
    await waitForLine(small, `clicked 0;63;${word.row + 1}`)
  } finally {
    await viewers.close()
  }
})
