// `npm run bench`: runs every bench/*.bench.js in turn. Each measures maestro against a baseline
// in the same run and prints ratios; none of them asserts a time. Words name the benches to run
// (`node bench/run.js ls`); flags (`--startup`) are left for the benches to read.
import {readdir} from 'node:fs/promises'

const dir = new URL('.', import.meta.url)
const only = process.argv.slice(2).filter((word) => !word.startsWith('--'))
for (const file of (await readdir(dir)).filter((name) => name.endsWith('.bench.js')).sort()) {
  if (only.length > 0 && !only.some((word) => file.includes(word))) continue
  console.log(`\n== ${file}`)
  await import(new URL(file, dir).href)
}
