import {MaestroError} from '../shared/errors.js'
import {NAME_RULE, parseAgentId} from '../shared/names.js'
import {ApiError} from './api.js'
import {h, setText} from './dom.js'

/** The same check and wording as the CLI, so a bad name is explained before anything is sent. */
export function nameProblem(name: string): string | undefined {
  try {
    parseAgentId(name)
    return undefined
  } catch (error) {
    return error instanceof MaestroError ? error.message : String(error)
  }
}

interface Field {
  name: string
  label: string
  value?: string
  hint?: string
  required?: boolean
  validate?: (value: string) => string | undefined
  multiline?: boolean
}

/**
 * A modal form. `submit` runs with the values; its error (the server's message, in the CLI's
 * words) is shown in the dialog, which stays open so nothing typed is lost.
 */
export function formDialog(options: {
  title: string
  fields: Field[]
  action: string
  danger?: boolean
  body?: string
  submit: (values: Record<string, string>) => Promise<void>
}): void {
  const error = h('p', {class: 'dialog-error', role: 'alert', hidden: true})
  const inputs = options.fields.map((field) => {
    const attrs = {name: field.name, required: field.required, autocomplete: 'off', spellcheck: 'false', 'aria-describedby': `hint-${field.name}`}
    const input = field.multiline ? h('textarea', {...attrs, rows: 3}) : h('input', {...attrs, type: 'text'})
    input.value = field.value ?? ''
    return {field, input}
  })
  const submit = h('button', {type: 'submit', class: options.danger ? 'danger' : 'primary'}, options.action)
  const cancel = h('button', {type: 'button'}, 'Cancel')
  const form = h(
    'form',
    {method: 'dialog', novalidate: true},
    h('h2', {}, options.title),
    options.body ? h('p', {}, options.body) : null,
    ...inputs.map(({field, input}) =>
      h('label', {}, h('span', {}, field.label), input, field.hint ? h('small', {id: `hint-${field.name}`}, field.hint) : null),
    ),
    error,
    h('div', {class: 'row end'}, cancel, submit),
  )
  const dialog = h('dialog', {class: 'dialog'}, form)
  const showError = (message: string | undefined) => {
    error.hidden = !message
    setText(error, message ?? '')
  }
  for (const {field, input} of inputs) {
    input.addEventListener('input', () => showError(field.validate && input.value ? field.validate(input.value) : undefined))
  }
  cancel.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => dialog.remove())
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const values = Object.fromEntries(inputs.map(({field, input}) => [field.name, input.value.trim()]))
    for (const {field} of inputs) {
      const problem = field.required && !values[field.name] ? `${field.label} is required` : field.validate?.(values[field.name])
      if (problem) return showError(problem)
    }
    submit.disabled = true
    try {
      await options.submit(values)
      dialog.close()
    } catch (failure) {
      showError(failure instanceof ApiError || failure instanceof Error ? failure.message : String(failure))
    } finally {
      submit.disabled = false
    }
  })
  document.body.append(dialog)
  dialog.showModal()
}

export const NAME_HINT = `${NAME_RULE}; hyphens group agents (shop-api sits under shop).`

/** A short message at the bottom of the screen; long enough to read and copy an archive path. */
export function toast(message: string, kind: 'info' | 'error' = 'info'): void {
  let region = document.querySelector<HTMLElement>('.toasts')
  if (!region) {
    region = h('div', {class: 'toasts', role: 'status', 'aria-live': 'polite'})
    document.body.append(region)
  }
  const close = h('button', {type: 'button', class: 'ghost', 'aria-label': 'Dismiss'}, '×')
  const item = h('div', {class: `toast ${kind}`}, h('span', {}, message), close)
  close.addEventListener('click', () => item.remove())
  region.append(item)
  setTimeout(() => item.remove(), 15_000)
}
