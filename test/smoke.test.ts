import assert from 'node:assert/strict'
import {after, test} from 'node:test'

import {sandbox} from './helpers.js'

const box = sandbox('smoke')
after(() => box.cleanup())

test('new then ls shows the agent', async () => {
  const created = await box.cli(['new', 'smoke-one', '--cmd', 'sleep 100', '--json'])
  assert.equal(created.code, 0, created.stderr)
  const listed = await box.cli(['ls', '--json'])
  assert.deepEqual(JSON.parse(listed.stdout).map((agent: {name: string}) => agent.name), ['smoke-one'])
})
