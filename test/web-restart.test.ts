// An exited agent can be restarted from the page (issue 14).
import assert from 'node:assert/strict'
import {after, before, test} from 'node:test'

import type {Page} from 'playwright-core'

import {sandbox, waitFor} from './helpers.js'
import {type PageSession, agentRow, openPage, screenLines, screenshotPath, typeCommand, waitForLine} from './web-helpers.js'

const box = sandbox('webrestart')
let session: PageSession
let page: Page

before(async () => {
  const created = await box.cli(['new', 'worker', '--cmd', 'bash --norc --noprofile', '--note', 'keeps going'])
  assert.equal(created.code, 0, created.stderr)
  session = await openPage(box.env)
  page = session.page
})

after(async () => {
  await session?.close()
  box.cleanup()
})

/** Keys typed before the terminal is attached would be lost: wait for the shell's prompt. */
function prompt(): Promise<unknown> {
  return waitFor(async () => (await screenLines(page)).some((line) => line.startsWith('bash-')), 20_000, 'the shell prompt')
}

test('Restart shows only for an exited agent and brings its program back in the terminal', async () => {
  await agentRow(page, 'worker').click()
  await prompt()
  const restart = page.locator('.agent-bar .restart')
  await typeCommand(page, 'echo first-$((6*7))')
  await waitForLine(page, 'first-42')
  assert.equal(await restart.isHidden(), true, 'no Restart while the program runs')

  await typeCommand(page, 'exit 7')
  await page.locator('.state-pill[data-state="exited"]').waitFor({timeout: 20_000})
  await restart.waitFor({state: 'visible'})
  await page.screenshot({path: screenshotPath('agent-exited-restart.png')})
  await restart.click()

  await page.locator('.state-pill:not([data-state="exited"])').waitFor({timeout: 20_000})
  assert.equal(await restart.isHidden(), true)
  await prompt()
  await typeCommand(page, 'echo again-$((6*7))')
  await waitForLine(page, 'again-42', 20_000)
  const listed = JSON.parse((await box.cli(['ls', '--json'])).stdout)
  assert.deepEqual(
    listed.map((agent: any) => [agent.name, agent.status === 'exited', agent.command, agent.note]),
    [['worker', false, 'bash --norc --noprofile', 'keeps going']],
  )
})
