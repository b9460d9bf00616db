// `npm run bench`: runs every bench/*.bench.js in turn. Each measures maestro against a baseline
// in the same run and prints ratios; none of them asserts a time.
import {readdir} from 'node:fs/promises'

const dir = new URL('.', import.meta.url)
const only = process.argv.slice(2)
for (const file of (await readdir(dir)).filter((name) => name.endsWith('.bench.js')).sort()) {
  if (only.length > 0 && !only.some((word) => file.includes(word))) continue
  console.log(`\n== ${file}`)
  await import(new URL(file, dir).href)
}
