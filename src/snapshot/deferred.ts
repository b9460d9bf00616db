import {startupSnapshot} from 'node:v8'

/**
 * Stands in for a module that reads the environment (colour support, terminal width, DEBUG...)
 * when it loads, so that it loads in the process that runs a command rather than in the one that
 * built the snapshot. Its importers keep this object and reach the module through it on each use,
 * as compiled CommonJS does (`ansis_1.default.bold(...)`). Loading one while the snapshot is being
 * built is an error: its view of the environment would be frozen into every later run.
 */
export function deferred(name: string, load: () => unknown): unknown {
  let loaded: any
  const real = () => {
    if (loaded === undefined) {
      if (startupSnapshot.isBuildingSnapshot()) throw new Error(`${name} was loaded while the snapshot was built; it must load at run time`)
      loaded = load()
    }
    return loaded
  }
  // A function target, so that a module that is a function (debug, clean-stack) can be called.
  return new Proxy(() => {}, {
    // Answered without loading: importers ask at load time, to choose how to read `default`.
    get: (_, key) => (key === '__esModule' ? true : key === 'default' ? (real().__esModule ? real().default : real()) : real()[key]),
    apply: (_, self, args) => Reflect.apply(real(), self, args),
    has: (_, key) => key in real(),
    set: (_, key, value) => Reflect.set(real(), key, value),
  })
}
