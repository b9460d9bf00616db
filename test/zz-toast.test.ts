import assert from 'node:assert/strict'
import {readFileSync} from 'node:fs'
import {after, before, test} from 'node:test'
import type {Browser} from 'playwright-core'
import {sandbox} from './helpers.js'
import {type Server, agentRow, launchBrowser, startServer} from './web-helpers.js'

const box = sandbox('zztoast')
let server: Server
let browser: Browser
const HOOK = '/tmp/page3-closed.log'
before(async () => {
  const created = await box.cli(['new', 'zz-a', '--cmd', 'bash --norc --noprofile'])
  assert.equal(created.code, 0, created.stderr)
  for (let i = 0; i < 5; i++) assert.equal((await box.cli(['new', `busy-${i}`, '--cmd', `bash --norc --noprofile -c 'while :; do printf "\\r%s %s" $RANDOM $(date +%N); sleep 0.03; done'`])).code, 0)
  box.tmux(['set-hook', '-g', 'session-closed', `run-shell "date +%s%3N >> ${HOOK}"`])
  server = await startServer(box.env, ['--port', '0'])
  browser = await launchBrowser()
})
after(async () => { await browser?.close(); await server?.stop(); box.cleanup() })

for (const run of Array.from({length: 4}, (_, i) => i + 1)) test('timing ' + run, async () => {
  const name = 'zz-' + run
  assert.equal((await box.cli(['new', name, '--cmd', false ? 'node -e "process.on(\'SIGHUP\',()=>{});process.on(\'SIGTERM\',()=>{});setInterval(()=>{},1000)"' : 'bash --norc --noprofile'])).code, 0)
  const page = await (await browser.newContext(run % 2 ? {viewport: {width: 390, height: 844}, isMobile: true, hasTouch: true, deviceScaleFactor: 2} : {viewport: {width: 1280, height: 800}})).newPage()
  const marks: [number, string][] = []
  await page.exposeBinding('mark', (_source, what: string) => void marks.push([Date.now(), what]))
  await page.addInitScript(() => {
    const w = window as any
    const Orig = WebSocket
    w.WebSocket = class extends Orig { constructor(url: string) { super(url); this.addEventListener('message', (m: MessageEvent) => typeof m.data === 'string' && w.mark(url.slice(-30) + ' ' + m.data.slice(0, 60))); this.addEventListener('close', (e: CloseEvent) => w.mark(url.slice(-30) + ' close ' + e.code)) } }
    new MutationObserver((records) => { for (const r of records) for (const n of r.addedNodes) if ((n as Element).classList?.contains('toast')) w.mark('TOAST') }).observe(document, {subtree: true, childList: true})
  })
  await page.goto(server.url)
  await (run % 2 ? agentRow(page, name).tap() : agentRow(page, name).click())
  await page.locator(`.term[data-agent="${name}"]:not([hidden]) .xterm-screen`).waitFor()
  await page.waitForTimeout(1500)
  const t0 = Date.now()
  marks.length = 0
  const toast = page.locator('.toast', {hasText: name}).waitFor({timeout: 15000})
  const killed = await box.cli(['kill', name])
  marks.push([Date.now(), `cli kill returned ${killed.code}`])
  await toast
  const closed = readFileSync(HOOK, 'utf8').trim().split('\n').map(Number).filter((t) => t >= t0)
  for (const t of closed) marks.push([t, 'session-closed hook'])
  marks.sort((a, b) => a[0] - b[0])
  for (const [t, what] of marks) console.log(`${run} ${String(t - t0).padStart(6)} ${what}`)
  await page.context().close()
})
