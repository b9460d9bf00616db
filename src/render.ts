/** Plain, aligned text output for humans; `--json` output never passes through here. */

/**
 * Aligns columns with two spaces between them; the last column is never padded. With `fit`, the
 * rows stay within `fit.width` characters: the columns listed in `fit.shrink` give up width, the
 * widest first, down to their heading's width, and cells that no longer fit end in "…".
 */
export function table(header: string[], rows: string[][], fit?: {width: number; shrink: number[]}): string {
  const all = [header, ...rows]
  // Characters, not UTF-16 units: counted one by one only when some text is not plain ASCII
  // (all.join() joins the rows' cells too, with commas).
  const length = /[^\0-\x7F]/.test(all.join()) ? (cell: string) => [...cell].length : (cell: string) => cell.length
  const widths = header.map(() => 0)
  for (const row of all) for (let column = 0; column < row.length; column++) widths[column] = Math.max(widths[column], length(row[column]))
  if (fit) shrinkColumns(widths, header, fit)
  // Plain loops, not callbacks: a command lays out its table once, before the JIT would make
  // callbacks cheap (500 rows in a fresh process: about 3 ms of CPU against 8).
  const lines: string[] = []
  for (const row of all) {
    let line = ''
    for (let column = 0; column < row.length; column++) {
      const cell = row[column]
      const cellLength = length(cell)
      const shown = cellLength > widths[column] ? truncate(cell, widths[column]) : cell
      line += column === row.length - 1 ? shown : `${shown}${' '.repeat(widths[column] - Math.min(cellLength, widths[column]))}  `
    }
    lines.push(line.trimEnd())
  }
  return lines.join('\n')
}

function shrinkColumns(widths: number[], header: string[], fit: {width: number; shrink: number[]}): void {
  let excess = widths.reduce((sum, width) => sum + width, 0) + 2 * (widths.length - 1) - fit.width
  while (excess > 0) {
    const candidates = fit.shrink.filter((column) => widths[column] > Math.max(header[column].length, 1))
    if (candidates.length === 0) return
    const widest = candidates.reduce((a, b) => (widths[b] > widths[a] ? b : a))
    widths[widest]--
    excess--
  }
}

function truncate(text: string, width: number): string {
  const chars = [...text]
  return chars.length > width ? `${chars.slice(0, Math.max(0, width - 1)).join('')}…` : text
}

/** 42s, 5m, 3h, 2d: how long ago `iso` was. */
export function age(iso: string, now = Date.now()): string {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (seconds < 60) return `${seconds}s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h`
  return `${Math.floor(seconds / 86_400)}d`
}

export function firstLine(text: string, max = 48): string {
  const line = text.split('\n', 1)[0] ?? ''
  return line.length > max ? `${line.slice(0, max - 1)}…` : line
}

/** Shows the home directory as ~ so paths stay short. */
export function shortPath(path: string, home: string): string {
  return home && (path === home || path.startsWith(`${home}/`)) ? `~${path.slice(home.length)}` : path
}

/** On a terminal a table's rows fit its width, the `shrink` columns giving way; piped, they are printed whole. */
export function terminalFit(header: string[], shrink: string[]): {width: number; shrink: number[]} | undefined {
  if (!process.stdout.isTTY || !process.stdout.columns) return undefined
  return {width: process.stdout.columns, shrink: shrink.map((column) => header.indexOf(column)).filter((index) => index >= 0)}
}
