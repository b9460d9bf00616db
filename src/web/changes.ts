import type {AgentChanges} from '../shared/agent.js'
import {ApiError, api} from './api.js'
import {h, setText} from './dom.js'

/** Often enough to follow an agent at work, rarely enough that git on the server stays cheap. */
const REFRESH_MS = 3000

/**
 * The "Changes" view over the terminal: what `maestro diff` shows for the selected agent (its
 * commits, uncommitted and untracked files against its base), fetched again every few seconds
 * while it is open, so it stays current while the agent works.
 */
export class ChangesView {
  readonly element: HTMLElement
  private readonly heading = h('div', {class: 'changes-heading'})
  private readonly files = h('ul', {class: 'changes-files'})
  private readonly patch = h('pre', {class: 'changes-patch'})
  private name?: string
  private timer?: ReturnType<typeof setTimeout>
  /** Counts loads, so that an answer for an agent no longer shown is dropped. */
  private generation = 0

  constructor() {
    this.element = h('section', {class: 'changes', 'aria-label': 'Changes', hidden: true}, this.heading, this.files, this.patch)
  }

  get open(): boolean {
    return !this.element.hidden
  }

  show(name: string | undefined): void {
    this.name = name
    this.element.hidden = !name
    clearTimeout(this.timer)
    this.generation++
    if (name) void this.load(this.generation)
  }

  private async load(generation: number): Promise<void> {
    const name = this.name
    if (!name) return
    try {
      const changes = await api.changes(name)
      if (generation === this.generation) this.render(changes)
    } catch (error) {
      if (generation === this.generation) setText(this.heading, error instanceof ApiError ? error.message : String(error))
    }
    if (generation === this.generation) this.timer = setTimeout(() => void this.load(generation), REFRESH_MS)
  }

  private render(changes: AgentChanges): void {
    const {commits, files, uncommitted, worktree} = changes
    const pending = new Set(uncommitted)
    const summary =
      files.length === 0 && commits.length === 0
        ? 'no changes yet'
        : `${commits.length} commit${commits.length === 1 ? '' : 's'}, ${files.length} file${files.length === 1 ? '' : 's'} changed (${pending.size} not committed)`
    setText(this.heading, `${worktree.branch} since ${worktree.base.slice(0, 10)}: ${summary}`)
    this.files.replaceChildren(
      ...commits.map((commit) => h('li', {class: 'commit'}, h('code', {}, commit.sha.slice(0, 10)), ` ${commit.subject}`)),
      ...files.map((file) =>
        h(
          'li',
          {class: pending.has(file.path) ? 'file uncommitted' : 'file'},
          h('span', {class: 'added'}, file.added === null ? 'bin' : `+${file.added}`),
          h('span', {class: 'deleted'}, file.deleted === null ? '' : `-${file.deleted}`),
          h('span', {class: 'path'}, file.path),
          pending.has(file.path) ? h('span', {class: 'tag'}, 'not committed') : null,
        ),
      ),
    )
    // One element per line, classed by its first character: the colours of `git diff` on a terminal.
    const lines = changes.patch.split('\n')
    this.patch.replaceChildren(
      ...lines.map((line) => h('span', {class: lineClass(line)}, `${line}\n`)),
      ...(changes.truncated ? [h('span', {class: 'meta'}, `… cut short; maestro diff ${changes.name} prints all of it\n`)] : []),
    )
  }
}

function lineClass(line: string): string {
  if (line.startsWith('+++') || line.startsWith('---') || line.startsWith('diff ') || line.startsWith('index ')) return 'meta'
  if (line.startsWith('@@')) return 'hunk'
  if (line.startsWith('+')) return 'add'
  if (line.startsWith('-')) return 'del'
  return 'context'
}
