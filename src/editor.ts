import {spawn} from 'node:child_process'
import {mkdtemp, readFile, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

import type {Context} from './context.js'
import {MaestroError} from './shared/errors.js'

/**
 * Lets the user edit `text` in the context's `editor` ($VISUAL/$EDITOR, with its arguments), run with its `env`, and returns the result, with the file it was
 * edited in. The caller removes that file once the text is safely stored (`discard`), so an
 * edit that cannot be saved is never lost.
 */
export async function editText(text: string, label: string, {editor, env}: Pick<Context, 'editor' | 'env'>): Promise<{text: string; file: string; discard: () => Promise<void>}> {
  const folder = await mkdtemp(join(tmpdir(), 'maestro-edit-'))
  const file = join(folder, `${label}.md`)
  await writeFile(file, text, {mode: 0o600})
  // $EDITOR may carry arguments ("code --wait"); split them ourselves rather than hand it to a shell.
  const [program, ...editorArgs] = editor.trim().split(/\s+/)
  const status = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(program, [...editorArgs, file], {stdio: 'inherit', env})
    child.on('error', reject)
    child.on('exit', (code) => resolve(code))
  }).catch((error: Error) => {
    throw new MaestroError('EDITOR_FAILED', `could not start editor "${program}": ${error.message} (set $EDITOR)`)
  })
  if (status !== 0) {
    throw new MaestroError('EDITOR_FAILED', `editor "${program}" exited with ${status}; the note was not changed (your text is in ${file})`)
  }
  return {text: await readFile(file, 'utf8'), file, discard: () => rm(folder, {recursive: true, force: true})}
}
