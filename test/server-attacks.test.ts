// The weaknesses of issue 9, each as an attacker finds it: a real browser for what a web page
// can do, raw sockets for raw paths and headers.
import assert from 'node:assert/strict'
import {type Server, createServer} from 'node:http'
import type {AddressInfo} from 'node:net'
import {after, before, test} from 'node:test'

import type {Browser} from 'playwright-core'

import {DEFAULT_AUTH_LIMIT} from '../src/server/rate-limit.js'
import {sandbox} from './helpers.js'
import {type TestServer, call, login, newAgent, serve, useSandboxEnv} from './server-helpers.js'
import {agentRow, launchBrowser} from './web-helpers.js'

const box = sandbox('server-attacks')
useSandboxEnv(box)
let browser: Browser
let evil: Server
let evilPort: number
/** What the attacker's page serves next, set by each test. */
let evilPage = ''

before(async () => {
  await newAgent(box, 'victim', 'cat')
  browser = await launchBrowser()
  evil = createServer((_request, res) => {
    res.writeHead(200, {'Content-Type': 'text/html; charset=utf-8'})
    res.end(evilPage)
  })
  await new Promise<void>((resolve) => evil.listen(0, '127.0.0.1', resolve))
  evilPort = (evil.address() as AddressInfo).port
})
after(async () => {
  await browser?.close()
  evil?.close()
  box.cleanup()
})

/** A fresh server per test, so that one test's failures do not limit the next. */
async function withServer(run: (t: TestServer) => Promise<void>, options: Parameters<typeof serve>[1] = {}): Promise<void> {
  const t = await serve(box, options)
  try {
    await run(t)
  } finally {
    await t.server.close()
  }
}

/** Loads the attacker's page at `origin` and waits until every element it loads has loaded or failed. */
async function visitEvil(html: string, origin: string): Promise<void> {
  evilPage = `<!doctype html><html><body>${html}<script>
    Promise.all([...document.images].map((img) => img.complete ? 0 : new Promise((done) => { img.onload = img.onerror = done })))
      .then(() => { document.title = 'done' })
  </script></body></html>`
  const context = await browser.newContext()
  try {
    const page = await context.newPage()
    await page.goto(`${origin}/`)
    await page.waitForFunction(() => document.title === 'done', undefined, {timeout: 20_000})
  } finally {
    await context.close()
  }
}

const bearer = (t: TestServer) => call(`${t.base}/api/agents`, {headers: {authorization: `Bearer ${t.token}`}})

test('1. a cookie tossed from another localhost port does not sign the page out', async () => {
  await withServer(async (t) => {
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      // Another local server (a dev server, an app preview) is the same site: it plants a cookie
      // of the same name with a longer path, which the browser sends first.
      evilPage = `<!doctype html><script>document.cookie = 'maestro_session_${t.port}=tossed; path=/api'; document.title = 'tossed'</script>`
      await page.goto(`http://localhost:${evilPort}/`)
      await page.waitForFunction(() => document.title === 'tossed')
      await page.goto(`http://localhost:${t.port}/?token=${t.token}`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      assert.equal(await page.evaluate(() => fetch('/api/agents').then((reply) => reply.status)), 200)
      // Planted after signing in, it changes nothing either.
      await page.goto(`http://localhost:${evilPort}/`)
      await page.goto(`http://localhost:${t.port}/`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      assert.equal(await page.evaluate(() => fetch('/api/agents').then((reply) => reply.status)), 200)
    } finally {
      await context.close()
    }
  })
})

test('3. a web page loading wrong tokens as images cannot lock out sign-in or Bearer scripts', async () => {
  await withServer(async (t) => {
    const images = (host: string) =>
      Array.from({length: 12}, (_, i) => `<img src="http://${host}:${t.port}/?token=wrong${i}">`).join('') +
      Array.from({length: 12}, (_, i) => `<img src="http://${host}:${t.port}/api/agents?x=${i}">`).join('')
    // Cross-site (another host name) and same-site (another port of the same host).
    await visitEvil(images('localhost'), `http://127.0.0.1:${evilPort}`)
    await visitEvil(images('127.0.0.1'), `http://127.0.0.1:${evilPort}`)
    assert.equal((await bearer(t)).status, 200)
    assert.equal((await call(`${t.base}/?token=${t.token}`)).status, 303)
    // Opening the printed URL in a browser still signs in.
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`http://localhost:${t.port}/?token=${t.token}`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
    } finally {
      await context.close()
    }
  })
})

test('3. a token sent by a page without a user navigation is refused unchecked; a clicked link signs in', async () => {
  await withServer(async (t) => {
    const crossSite = {'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors', 'sec-fetch-dest': 'image'}
    for (let i = 0; i < 30; i++) {
      assert.equal((await call(`${t.base}/?token=wrong${i}`, {headers: crossSite})).status, 403)
    }
    // Refused before the check: not even the right token is looked at.
    assert.equal((await call(`${t.base}/?token=${t.token}`, {headers: crossSite})).status, 403)
    assert.equal((await bearer(t)).status, 200)
    // A link the user clicks on another site (a share link in a chat) is a user navigation.
    evilPage = `<!doctype html><a id="go" href="http://localhost:${t.port}/?token=${t.token}">open</a>`
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`http://127.0.0.1:${evilPort}/`)
      await page.click('#go')
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      assert.equal(new URL(page.url()).search, '')
    } finally {
      await context.close()
    }
  }, {authLimit: {...DEFAULT_AUTH_LIMIT, max: 3}})
})

test('4. failed token checks are limited across all addresses: 600 from 60 loopback addresses', async () => {
  assert.deepEqual(DEFAULT_AUTH_LIMIT, {max: 10, maxTotal: 100, windowMs: 60_000})
  await withServer(async (t) => {
    const statuses: number[] = []
    for (let round = 0; round < 10; round++) {
      const replies = await Promise.all(
        Array.from({length: 60}, (_, i) =>
          call(`${t.base}/api/agents`, {headers: {authorization: `Bearer wrong-${round}-${i}-0123456789`}, localAddress: `127.0.0.${i + 2}`}),
        ),
      )
      statuses.push(...replies.map((reply) => reply.status))
    }
    assert.equal(statuses.filter((status) => status === 401).length, DEFAULT_AUTH_LIMIT.maxTotal)
    assert.equal(statuses.filter((status) => status === 429).length, 600 - DEFAULT_AUTH_LIMIT.maxTotal)
  })
})

test('5. opening ?token= when already signed in still takes the token out of the address bar', async () => {
  await withServer(async (t) => {
    const cookie = await login(t)
    for (const token of [t.token, 'wrong-token-0123456789']) {
      const reply = await call(`${t.base}/?token=${token}&keep=1`, {headers: {cookie}})
      assert.equal(reply.status, 303)
      assert.equal(reply.headers.location, '/?keep=1')
    }
    const context = await browser.newContext()
    try {
      const page = await context.newPage()
      await page.goto(`${t.base}/?token=${t.token}`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      await page.goto(`${t.base}/?token=${t.token}`)
      await agentRow(page, 'victim').waitFor({timeout: 15_000})
      assert.equal(page.url(), `${t.base}/`)
    } finally {
      await context.close()
    }
  })
})

test('6. the sign-in redirect never leaves the origin, whatever the raw path', async () => {
  await withServer(async (t) => {
    for (const path of ['/.//evil.com', '/./\\evil.com', '/..//evil.com', '/%2e//evil.com', '/a/..//evil.com', '/.///evil.com/x']) {
      const reply = await rawRequest(t.port, `GET ${path}?token=${t.token} HTTP/1.1\r\nHost: localhost:${t.port}\r\nConnection: close\r\n\r\n`)
      const location = /\r\nLocation: ([^\r]*)/i.exec(reply)?.[1]
      assert.ok(location, `${path}: ${reply.split('\r\n')[0]}`)
      assert.match(location, /^\/(?![/\\])/, `${path} redirected to ${location}`)
      assert.equal(new URL(location, t.base).origin, t.base)
    }
  })
})

/** Sends bytes exactly as given (no client library tidies the path) and returns the whole reply. */
async function rawRequest(port: number, bytes: string): Promise<string> {
  const {connect} = await import('node:net')
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(bytes))
    let reply = ''
    socket.on('data', (chunk) => (reply += chunk))
    socket.on('end', () => resolve(reply))
    socket.on('error', reject)
  })
}
