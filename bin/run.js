#!/usr/bin/env node
// oclif and the commands come bundled in one file (scripts/bundle.js), quicker to load than the
// modules it is made of.
import {execute} from '../dist/cli/index.js'

await execute({dir: import.meta.url})
