// Shared by the browser tests: a real `maestro serve` child, Debian's Chromium, and reading the page's terminal.
import assert from 'node:assert/strict'
import {type ChildProcess, spawn} from 'node:child_process'
import {mkdirSync} from 'node:fs'
import {join} from 'node:path'

import {type Browser, type Page, chromium} from 'playwright-core'

import {BIN, ROOT, waitFor} from './helpers.js'

export const SCREENSHOTS = join(ROOT, 'test-artifacts', 'screenshots')

export function screenshotPath(name: string): string {
  mkdirSync(SCREENSHOTS, {recursive: true})
  return join(SCREENSHOTS, name)
}

/**
 * Never downloads a browser: the system's Chromium, headless, without background traffic.
 * Without WebGL by default, so the page falls back to xterm's DOM renderer, whose rows
 * `screenLines` reads as text; test/web-renderer.test.ts covers the WebGL renderer.
 */
export function launchBrowser({webgl = false} = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', ...(webgl ? [] : ['--disable-3d-apis'])],
  })
}

const pageErrors: string[] = []

/**
 * Chromium's own network log, not the page's: a refused request or socket that the page answers
 * (a 409 on a stale note, a 401 after sign-out, a refused connection while the server restarts).
 */
const NETWORK_LOG = /^(Failed to load resource: |WebSocket connection to '[^']*' failed: )/

/** Records the page's uncaught errors and its own console errors, which `assertNoPageErrors` fails on. */
export function watchPageErrors(page: Page): void {
  page.on('pageerror', (error) => pageErrors.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error' && !NETWORK_LOG.test(message.text())) pageErrors.push(`console error: ${message.text()}`)
  })
}

/** For afterEach: every error a watched page had during the test fails it. */
export function assertNoPageErrors(): void {
  assert.deepEqual(pageErrors.splice(0), [], 'the page had errors')
}

export interface Server {
  url: string
  port: number
  child: ChildProcess
  stop(): Promise<void>
}

/** Starts `maestro serve` and resolves with the URL it prints (token included). */
export async function startServer(env: NodeJS.ProcessEnv, flags: string[] = []): Promise<Server> {
  const child = spawn(process.execPath, [BIN, 'serve', ...flags], {env, stdio: ['ignore', 'pipe', 'pipe']})
  let output = ''
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk))
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk))
  let stopping = false
  // A server that ends while tests still use it fails them all alike: its last words say why.
  child.on('exit', (code, signal) => {
    if (!stopping) console.log(`maestro serve ended (${signal ?? `exit ${code}`}) while in use; its output:\n${output}`)
  })
  const stop = () =>
    new Promise<void>((resolve) => {
      stopping = true
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      const force = setTimeout(() => child.kill('SIGKILL'), 5000)
      child.once('exit', () => {
        clearTimeout(force)
        resolve()
      })
      child.kill('SIGTERM')
    })
  try {
    const url = await waitFor(() => (child.exitCode === null ? /https?:\/\/\S+/.exec(output)?.[0] : Promise.reject(new Error(output))), 15_000, 'the URL from maestro serve')
    return {url, port: Number(new URL(url).port), child, stop}
  } catch (error) {
    await stop()
    throw new Error(`maestro serve did not start: ${(error as Error).message}\n${output}`)
  }
}

export interface PageSession {
  server: Server
  browser: Browser
  page: Page
  close(): Promise<void>
}

/** A served page at a desktop size, signed in; page errors are logged so a failing test shows them. */
export async function openPage(env: NodeJS.ProcessEnv): Promise<PageSession> {
  const server = await startServer(env, ['--port', '0'])
  const browser = await launchBrowser()
  const page = await (await browser.newContext({viewport: {width: 1280, height: 800}})).newPage()
  page.on('pageerror', (error) => console.log(`page error: ${error.message}`))
  await page.goto(server.url)
  return {server, browser, page, close: async () => void (await Promise.all([browser.close(), server.stop()]))}
}

/** The lines the shown terminal displays (xterm's DOM renderer), spaces normalised. */
export function screenLines(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    [...document.querySelectorAll('.term:not([hidden]) .xterm-rows > div')].map((row) => (row.textContent ?? '').replace(/\u00a0/g, ' ').trimEnd()),
  )
}

/** Waits until the shown terminal has a line that is exactly `line`. */
export function waitForLine(page: Page, line: string, timeoutMs = 10_000): Promise<string[]> {
  return waitFor(async () => {
    const lines = await screenLines(page)
    return lines.some((each) => each.trim() === line) ? lines : undefined
  }, timeoutMs, `the terminal to show ${JSON.stringify(line)}`)
}

/** Focuses the shown terminal and types a command line into it. */
export async function typeCommand(page: Page, command: string): Promise<void> {
  await page.locator('.term:not([hidden]) .xterm-screen').click()
  await page.keyboard.type(command)
  await page.keyboard.press('Enter')
}

/**
 * Whether the shown terminal is exactly as large as the agent's tmux client (the viewer's pty):
 * when they differ, tmux draws lines that xterm.js wraps or cuts.
 */
export async function sizesAgree(page: Page, tmux: (args: string[]) => string, name: string): Promise<boolean> {
  const client = tmux(['list-clients', '-t', `=${name}`, '-F', '#{client_width}x#{client_height}']).trim().split('\n')
  const shown = await page.locator('.term:not([hidden])').getAttribute('data-size')
  return client.length === 1 && client[0] === shown
}

export function agentRow(page: Page, name: string) {
  return page.locator(`.sidebar button.agent[data-name="${name}"]`)
}
