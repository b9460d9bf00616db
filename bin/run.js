#!/usr/bin/env node
// The subpath, not the package root: the root also loads oclif's help, theme and Node version
// check (semver) before any command runs, a cost every `maestro` call would pay.
import {execute} from '@oclif/core/execute'

await execute({dir: import.meta.url})
