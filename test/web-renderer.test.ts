// Which renderer draws the page's terminal: WebGL when the browser has it, the DOM renderer when it
// does not or when the WebGL context is lost. Judged from screenshots, as a person would see it.
import assert from 'node:assert/strict'
import {after, afterEach, before, test} from 'node:test'

import type {Browser, Page} from 'playwright-core'

import {sandbox, waitFor} from './helpers.js'
import {type Server, agentRow, assertNoPageErrors, launchBrowser, screenshotPath, startServer, typeCommand, waitForLine, watchPageErrors} from './web-helpers.js'

const box = sandbox('webrender')
let server: Server
const browsers: Browser[] = []

before(async () => {
  const created = await box.cli(['new', 'art', '--cmd', 'bash --norc --noprofile'])
  assert.equal(created.code, 0, created.stderr)
  server = await startServer(box.env, ['--port', '0'])
})

afterEach(assertNoPageErrors)

after(async () => {
  await Promise.all(browsers.map((browser) => browser.close()))
  await server?.stop()
  box.cleanup()
})

async function openArt(webgl: boolean): Promise<{page: Page; chunks: string[]}> {
  const browser = await launchBrowser({webgl})
  browsers.push(browser)
  const page = await (await browser.newContext({viewport: {width: 1280, height: 800}})).newPage()
  watchPageErrors(page)
  const chunks: string[] = []
  page.on('request', (request) => {
    if (/\/chunk-[\w-]+\.js$/.test(request.url())) chunks.push(request.url())
  })
  await page.goto(server.url)
  await agentRow(page, 'art').click()
  await page.locator('.term[data-agent="art"]:not([hidden]) .xterm-screen').waitFor()
  return {page, chunks}
}

// Three rows of full blocks in pure white, then a row of box-drawing lines in pure red (octal
// UTF-8, so that the typed command is plain ASCII).
const DRAW =
  "clear; printf '\\033[38;2;255;255;255m'; for i in 1 2 3; do for j in $(seq 16); do printf '\\342\\226\\210'; done; echo; done; " +
  "printf '\\033[38;2;255;0;0m'; for j in $(seq 16); do printf '\\342\\224\\200'; done; printf '\\033[0m\\n'"

interface Shapes {
  /** Bounding box of the white block area, and how many pixels inside it are not white. */
  blocks: {width: number; height: number; gaps: number} | null
  /** The longest unbroken run of red pixels along one pixel row. */
  longestLine: number
  cell: {width: number; height: number}
}

/** Screenshots the shown terminal and measures the drawn shapes (decoded in a blank page, outside the app's CSP). */
async function measure(page: Page, decoder: Page): Promise<Shapes> {
  const screen = page.locator('.term:not([hidden]) .xterm-screen')
  const png = (await screen.screenshot()).toString('base64')
  const size = await page.locator('.term:not([hidden])').getAttribute('data-size')
  const [cols, rows] = (size ?? '0x0').split('x').map(Number)
  return decoder.evaluate(
    async ({png, cols, rows}) => {
      const image = new Image()
      image.src = `data:image/png;base64,${png}`
      await image.decode()
      const canvas = document.createElement('canvas')
      canvas.width = image.width
      canvas.height = image.height
      const context = canvas.getContext('2d')!
      context.drawImage(image, 0, 0)
      const {data, width, height} = context.getImageData(0, 0, image.width, image.height)
      // 1: pure white, 2: pure red, 0: anything else. (No named helper: tsx would wrap it in a __name call the page lacks.)
      const kind = new Uint8Array(width * height)
      for (let i = 0; i < kind.length; i++) {
        const [r, g, b] = [data[i * 4], data[i * 4 + 1], data[i * 4 + 2]]
        kind[i] = r >= 252 && g >= 252 && b >= 252 ? 1 : r >= 252 && g <= 3 && b <= 3 ? 2 : 0
      }
      let top = height, bottom = -1, left = width, right = -1
      let longestLine = 0
      for (let y = 0; y < height; y++) {
        let run = 0
        for (let x = 0; x < width; x++) {
          const at = y * width + x
          if (kind[at] === 1) {
            top = Math.min(top, y)
            bottom = Math.max(bottom, y)
            left = Math.min(left, x)
            right = Math.max(right, x)
          }
          run = kind[at] === 2 ? run + 1 : 0
          longestLine = Math.max(longestLine, run)
        }
      }
      let gaps = 0
      for (let y = top; y <= bottom; y++) for (let x = left; x <= right; x++) if (kind[y * width + x] !== 1) gaps++
      return {
        blocks: bottom < 0 ? null : {width: right - left + 1, height: bottom - top + 1, gaps},
        longestLine,
        cell: {width: width / cols, height: height / rows},
      }
    },
    {png, cols, rows},
  )
}

async function blankPage(): Promise<Page> {
  const browser = await launchBrowser()
  browsers.push(browser)
  return browser.newPage()
}

test('with WebGL the terminal is drawn by the WebGL renderer, loaded after the first load, and blocks and box lines join without seams', async () => {
  const {page, chunks} = await openArt(true)
  await page.locator('.term[data-agent="art"][data-renderer="webgl"]').waitFor({timeout: 15_000})
  // The renderer came as a separate chunk, not in the first load the budget test measures.
  assert.equal(chunks.length, 1, `chunks loaded: ${chunks.join(', ')}`)
  // No DOM renderer rows hold text: every glyph is on the WebGL canvas.
  assert.equal(await page.evaluate(() => document.querySelector('.term:not([hidden]) .xterm-rows')?.textContent ?? ''), '')
  await typeCommand(page, DRAW)
  const decoder = await blankPage()
  const shapes = await waitFor(async () => {
    const measured = await measure(page, decoder)
    return measured.blocks && measured.blocks.height >= 2.5 * measured.cell.height && measured.longestLine > 0 ? measured : undefined
  }, 10_000, 'the blocks and the line on screen')
  await page.screenshot({path: screenshotPath('terminal-webgl.png')})
  const {blocks, cell, longestLine} = shapes
  assert.ok(blocks)
  // 16 cells by 3 rows, filled whole: no seam between rows or columns.
  assert.ok(Math.abs(blocks.width - 16 * cell.width) <= 2, `blocks ${blocks.width} px wide, cells ${cell.width} px`)
  assert.ok(Math.abs(blocks.height - 3 * cell.height) <= 2, `blocks ${blocks.height} px high, cells ${cell.height} px`)
  assert.equal(blocks.gaps, 0, 'pixels inside the block area that are not drawn')
  // The 16 line characters make one unbroken line.
  assert.ok(longestLine >= 16 * cell.width - 2, `the longest unbroken line is ${longestLine} px of ${16 * cell.width}`)
})

test('when the WebGL context is lost the DOM renderer takes over and shows the same screen', async () => {
  const {page} = await openArt(true)
  await page.locator('.term[data-agent="art"][data-renderer="webgl"]').waitFor({timeout: 15_000})
  await typeCommand(page, 'echo before-$((20+1))')
  const lost = await page.evaluate(() => {
    for (const canvas of document.querySelectorAll('.term:not([hidden]) canvas')) {
      const context = (canvas as HTMLCanvasElement).getContext('webgl2')
      const extension = context?.getExtension('WEBGL_lose_context')
      if (extension) {
        extension.loseContext()
        return true
      }
    }
    return false
  })
  assert.ok(lost, 'a WebGL canvas to lose')
  await page.locator('.term[data-agent="art"][data-renderer="dom"]').waitFor({timeout: 15_000})
  await waitForLine(page, 'before-21')
  await typeCommand(page, 'echo after-$((20+2))')
  await waitForLine(page, 'after-22')
})

test('without WebGL the DOM renderer draws the terminal and the WebGL chunk is never fetched', async () => {
  const {page, chunks} = await openArt(false)
  await typeCommand(page, 'echo plain-$((40+2))')
  await waitForLine(page, 'plain-42')
  assert.equal(await page.locator('.term[data-agent="art"]').getAttribute('data-renderer'), 'dom')
  assert.deepEqual(chunks, [])
})
