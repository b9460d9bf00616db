// The page's rules that need no browser: grouping, ordering, colours, key encoding, bundle weight.
import assert from 'node:assert/strict'
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {after, test} from 'node:test'

import type {Agent} from '../src/shared/agent.js'
import {groupOf} from '../src/shared/names.js'
import {applyModifiers} from '../src/web/keys.js'
import {buildModel, describeState, groupColour, newlyWaiting, visibleOrder} from '../src/web/tree.js'

function agent(name: string, extra: Partial<Agent> = {}): Agent {
  return {
    id: name,
    host: null,
    name,
    group: groupOf(name),
    status: 'idle',
    exitCode: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    lastActivityAt: '2026-01-01T00:00:00.000Z',
    attachedClients: 0,
    dir: '/tmp',
    command: 'bash',
    note: '',
    noteLocked: false,
    state: 'idle',
    stateSince: '2026-01-01T00:00:00.000Z',
    stateSource: 'activity',
    stateMessage: null,
    worktree: null,
    ...extra,
  }
}

test('agents nest under their hyphen groups, groups first, each level alphabetical', () => {
  const {tree} = buildModel([agent('solo'), agent('shop-frontend-cart'), agent('shop-api'), agent('shop-frontend-auth'), agent('api')])
  const shape = (nodes: typeof tree): unknown[] =>
    nodes.map((node) => (node.kind === 'group' ? {[node.label]: shape(node.children), count: node.agentCount} : node.label))
  assert.deepEqual(shape(tree), [{shop: [{frontend: ['auth', 'cart'], count: 2}, 'api'], count: 3}, 'api', 'solo'])
})

test('waiting agents are lifted to the top, longest waiting first, and leave the tree', () => {
  const model = buildModel([
    agent('a-one'),
    agent('b-two', {state: 'waiting', stateSince: '2026-01-01T00:05:00.000Z'}),
    agent('c-three', {state: 'waiting', stateSince: '2026-01-01T00:01:00.000Z'}),
  ])
  assert.deepEqual(model.waiting.map((each) => each.name), ['c-three', 'b-two'])
  assert.deepEqual(visibleOrder(model, new Set()), ['c-three', 'b-two', 'a-one'])
  assert.deepEqual(visibleOrder(model, new Set(['a'])), ['c-three', 'b-two'], 'a collapsed group hides its agents from next/previous')
})

test('the filter matches names case-insensitively', () => {
  const model = buildModel([agent('shop-API'), agent('blog')], 'api')
  assert.deepEqual(visibleOrder(model, new Set()), ['shop-API'])
})

test('a top-level group has one colour, whatever the rest of the name', () => {
  assert.equal(groupColour('shop-api'), groupColour('shop-frontend-cart'))
  assert.equal(groupColour('shop'), groupColour('shop-x'))
  assert.notEqual(groupColour('shop-api'), groupColour('blog-api'))
  assert.match(groupColour('x'), /^hsl\(\d+ /)
})

test('the state text gives the age and the title names the source', () => {
  const now = Date.parse('2026-01-01T00:03:10.000Z')
  const waiting = describeState(agent('a', {state: 'waiting', stateSource: 'screen', stateMessage: 'Allow edit?'}), now)
  assert.equal(waiting.text, 'waiting 3m')
  assert.equal(waiting.title, 'waiting for you: Allow edit? (recognised on its screen)')
  assert.equal(describeState(agent('a', {state: 'exited', exitCode: 2}), now).text, 'exited (2) 3m')
})

test('only agents that newly wait are announced, never on the first reading', () => {
  const before = [agent('a'), agent('b', {state: 'waiting'})]
  assert.deepEqual(newlyWaiting(undefined, before), [])
  const previous = new Map(before.map((each) => [each.name, each]))
  const after = [agent('a', {state: 'waiting'}), agent('b', {state: 'waiting'})]
  assert.deepEqual(newlyWaiting(previous, after).map((each) => each.name), ['a'])
})

test('sticky Ctrl and Alt encode the next key like a terminal does', () => {
  assert.equal(applyModifiers('c', {ctrl: true, alt: false}), '\x03')
  assert.equal(applyModifiers('C', {ctrl: true, alt: false}), '\x03')
  assert.equal(applyModifiers('[', {ctrl: true, alt: false}), '\x1b')
  assert.equal(applyModifiers('b', {ctrl: false, alt: true}), '\x1bb')
  assert.equal(applyModifiers('x', {ctrl: true, alt: true}), '\x1b\x18')
  assert.equal(applyModifiers('\x1b[A', {ctrl: true, alt: false}), '\x1b[1;5A')
  assert.equal(applyModifiers('\x1bOD', {ctrl: false, alt: true}), '\x1b[1;3D')
  assert.equal(applyModifiers('hello', {ctrl: false, alt: false}), 'hello')
})

test('the whole first load stays under 150 KB gzipped', async () => {
  const script = new URL('../scripts/build-web.js', import.meta.url).href
  const {buildWeb, measureWeb} = (await import(script)) as {
    buildWeb(options: {outdir: string}): Promise<string>
    measureWeb(outdir: string): Promise<{files: {name: string; gzip: number}[]; gzip: number}>
  }
  // A private output directory: a running server may be serving dist/web meanwhile.
  const outdir = mkdtempSync(join(tmpdir(), 'maestro-web-'))
  after(() => rmSync(outdir, {recursive: true, force: true}))
  const {files, gzip} = await measureWeb(await buildWeb({outdir}))
  console.log(`first load: ${files.map((file) => `${file.name} ${file.gzip} B`).join(', ')}; total ${gzip} B gzipped`)
  assert.ok(gzip <= 150 * 1024, `first load is ${gzip} bytes gzipped`)
})
