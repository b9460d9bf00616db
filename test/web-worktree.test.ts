// The page shows an agent's branch and a "Changes" view that follows its work (issue 12).
import assert from 'node:assert/strict'
import {execFileSync} from 'node:child_process'
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {after, afterEach, before, test} from 'node:test'

import type {Browser, Page} from 'playwright-core'

import {sandbox} from './helpers.js'
import {type Server, agentRow, launchBrowser, screenshotPath, startServer, assertNoPageErrors, watchPageErrors} from './web-helpers.js'

const box = sandbox('webworktree')
const repo = join(box.home, 'shop')
let server: Server
let browser: Browser
let page: Page

before(async () => {
  mkdirSync(repo)
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, '-c', 'user.name=t', '-c', 'user.email=t@t', ...args])
  git('init', '-q')
  writeFileSync(join(repo, 'app.txt'), 'first\n')
  git('add', '-A')
  git('commit', '-qm', 'first')
  for (const args of [['tree-agent', '--worktree', '--dir', repo], ['plain-agent']]) {
    const created = await box.cli(['new', ...args, '--cmd', 'bash --norc --noprofile'])
    assert.equal(created.code, 0, created.stderr)
  }
  server = await startServer(box.env, ['--port', '0'])
  browser = await launchBrowser()
  page = await (await browser.newContext({viewport: {width: 1280, height: 800}})).newPage()
  watchPageErrors(page)
  await page.goto(server.url)
})

afterEach(assertNoPageErrors)

after(async () => {
  await browser?.close()
  await server?.stop()
  box.cleanup()
})

test('the sidebar and the agent bar show the branch; Changes follows what the agent writes', async () => {
  await agentRow(page, 'tree-agent').locator('.agent-branch', {hasText: 'maestro/tree-agent'}).waitFor()
  assert.equal(await agentRow(page, 'plain-agent').locator('.agent-branch').isHidden(), true)

  await agentRow(page, 'plain-agent').click()
  assert.equal(await page.locator('.changes-toggle').isHidden(), true, 'no Changes for an agent without a worktree')

  await agentRow(page, 'tree-agent').click()
  await page.locator('.agent-meta', {hasText: 'maestro/tree-agent'}).waitFor()
  await page.locator('.changes-toggle').click()
  await page.locator('.changes-heading', {hasText: 'no changes yet'}).waitFor()

  // The agent works while the view is open: the view catches up without being asked.
  const sent = await box.cli(['send', 'tree-agent', 'echo second >> app.txt && echo hello > notes.md'])
  assert.equal(sent.code, 0, sent.stderr)
  await page.locator('.changes-files .file .path', {hasText: 'notes.md'}).waitFor({timeout: 20_000})
  await page.locator('.changes-patch .add', {hasText: '+second'}).waitFor()
  assert.match(await page.locator('.changes-heading').innerText(), /0 commits, 2 files changed \(2 not committed\)/)
  await page.screenshot({path: screenshotPath('worktree-changes.png')})

  // The toggle gives the terminal back.
  await page.locator('.changes-toggle').click()
  assert.equal(await page.locator('.changes').isHidden(), true)
})

test('the changes of an agent without a worktree are refused with NO_WORKTREE', async () => {
  const answer = await page.evaluate(async () => {
    const response = await fetch('/api/agents/plain-agent/changes')
    return {status: response.status, body: await response.json()}
  })
  assert.equal(answer.status, 409)
  assert.equal(answer.body.error.code, 'NO_WORKTREE')
})
