import {readFileSync} from 'node:fs'
import {SourceMap} from 'node:module'
import os from 'node:os'
import tty from 'node:tty'

/**
 * Watches what module initialisation reads of the environment while the snapshot is built:
 * variables, terminals, standard streams, argv, the working and home directories. A module that reads one of them at load would
 * carry the build's answer into every run, so `check()` fails the build, naming the module,
 * unless the read is one of `ALLOWED`. Must be the first module the snapshot entry imports.
 */

/** Reads at load that are harmless in a snapshot, with the reason. */
const ALLOWED: Array<{module: string; read: string; why: string}> = [
  // Registers its EPIPE handler on process.stdout; the entry moves it to each run's stdout.
  {module: '@oclif/core/lib/command.js', read: 'process.stdout', why: 'moved to the run'},
  // Keeps the stream prototype's write method, not the stream.
  {module: '@oclif/core/lib/ux/action/base.js', read: 'process.stdout', why: 'prototype method'},
  {module: '@oclif/core/lib/ux/action/base.js', read: 'process.stderr', why: 'prototype method'},
]

const reads: Array<{read: string; stack: string}> = []
// Modules keep the wrapped functions after the build; they must cost nothing then.
let watching = true
const restore: Array<() => void> = []

function watch(read: string): void {
  if (!watching) return
  // Node's own code may have turned stack traces off (it does while printing a warning).
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 20
  reads.push({read, stack: new Error('read').stack ?? ''})
  Error.stackTraceLimit = limit
}

const env = process.env
process.env = new Proxy(env, {
  get(target, key) {
    if (typeof key === 'string') watch(`process.env.${key}`)
    return Reflect.get(target, key)
  },
  has(target, key) {
    if (typeof key === 'string') watch(`process.env.${key}`)
    return Reflect.has(target, key)
  },
  ownKeys(target) {
    watch('process.env (all names)')
    return Reflect.ownKeys(target)
  },
})
restore.push(() => (process.env = env))

const {isatty} = tty
tty.isatty = (fd: number) => {
  watch('tty.isatty')
  return isatty(fd)
}
restore.push(() => (tty.isatty = isatty))

for (const name of ['homedir', 'userInfo', 'tmpdir', 'hostname'] as const) {
  const original = os[name] as (...args: unknown[]) => unknown
  ;(os as Record<string, unknown>)[name] = (...args: unknown[]) => {
    watch(`os.${name}()`)
    return original(...args)
  }
  restore.push(() => ((os as Record<string, unknown>)[name] = original))
}

const {cwd} = process
process.cwd = () => {
  watch('process.cwd()')
  return cwd()
}
restore.push(() => (process.cwd = cwd))

for (const name of ['stdin', 'stdout', 'stderr', 'argv'] as const) {
  const descriptor = Object.getOwnPropertyDescriptor(process, name)!
  Object.defineProperty(process, name, {
    configurable: true,
    enumerable: descriptor.enumerable,
    get() {
      watch(`process.${name}`)
      return descriptor.get ? descriptor.get.call(process) : descriptor.value
    },
  })
  restore.push(() => Object.defineProperty(process, name, descriptor))
}

/**
 * The module that made a read: the source, in the bundle's map (scripts/bundle.js), of the first
 * frame of the bundle outside this file. Undefined when Node reads them to print a warning (it
 * warns about some of its own modules in a snapshot), or when no module is involved.
 */
function moduleAt(stack: string, map: SourceMap, file: string): string | undefined {
  if (stack.includes('emitWarning')) return undefined
  for (const frame of stack.split('\n').slice(1)) {
    const at = frame.lastIndexOf(`${file}:`)
    if (at < 0) continue
    const [line, column] = frame
      .slice(at + file.length + 1)
      .split(':')
      .map((number) => Number.parseInt(number, 10) - 1)
    const {originalSource} = map.findEntry(line, column) as {originalSource?: string}
    // Sources are relative to dist/snapshot/: ../../node_modules/x/y.js, ../../src/z.ts.
    const module = originalSource ? originalSource.replace(/^(\.\.\/)*/, '').replace(/^node_modules\//, '') : 'an unknown module'
    if (module !== 'src/snapshot/tripwire.ts') return module
  }
  return undefined
}

/**
 * Stops watching; throws when a module read the environment in a way not ALLOWED, or other than
 * the `recorded` reads, which the caller keeps and compares in each run.
 */
export function check(file: string, recorded: string[] = []): void {
  watching = false
  for (const undo of restore) undo()
  const map = new SourceMap(JSON.parse(readFileSync(`${file}.map`, 'utf8')))
  const bad = new Set<string>()
  for (const {read, stack} of reads.splice(0)) {
    const module = moduleAt(stack, map, file)
    if (module === undefined) continue
    if (recorded.includes(read) || ALLOWED.some((allowed) => allowed.module === module && allowed.read === read)) continue
    bad.add(`${module} reads ${read}`)
  }
  if (bad.size > 0) {
    throw new Error(`these modules read the environment while loading, which a snapshot would freeze; read it when called instead, or defer the module (scripts/bundle.js):\n  ${[...bad].join('\n  ')}`)
  }
}
