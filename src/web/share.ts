import type {Share} from '../shared/protocol.js'
import {ApiError, api} from './api.js'
import {h, setText} from './dom.js'

const when = (iso: string) => new Date(iso).toLocaleString([], {month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit'})

/**
 * Makes and revokes share links for one agent, like `maestro share`. The link's token is shown
 * once, right after it is made: the server keeps only its hash.
 */
export function shareDialog(agent: string): void {
  const role = h('select', {name: 'role'}, h('option', {value: 'viewer'}, 'viewer: watches and reads the note'), h('option', {value: 'operator'}, 'operator: also types and edits the note'))
  const expires = h('input', {name: 'expires', type: 'text', autocomplete: 'off', spellcheck: 'false', value: '24h'})
  const label = h('input', {name: 'label', type: 'text', autocomplete: 'off', spellcheck: 'false'})
  const error = h('p', {class: 'dialog-error', role: 'alert', hidden: true})
  const link = h('input', {type: 'text', readonly: true, class: 'share-url', 'aria-label': 'The new share link'})
  const copy = h('button', {type: 'button'}, 'Copy')
  const made = h('div', {class: 'share-made', hidden: true}, h('small', {}, 'Send this link now: it is shown only once.'), h('div', {class: 'row'}, link, copy))
  const list = h('ul', {class: 'share-list'})
  const submit = h('button', {type: 'submit', class: 'primary'}, 'Make link')
  const close = h('button', {type: 'button'}, 'Close')
  const form = h(
    'form',
    {method: 'dialog', novalidate: true},
    h('h2', {}, `Share ${agent}`),
    h('p', {}, 'A link that shows only this agent. Whoever has it cannot create, rename, kill or share.'),
    h('label', {}, h('span', {}, 'Role'), role),
    h('label', {}, h('span', {}, 'Works for'), expires, h('small', {}, '30m, 24h, 7d (at most a year)')),
    h('label', {}, h('span', {}, 'Label'), label, h('small', {}, 'Optional: who has it, for the list below')),
    error,
    made,
    h('div', {class: 'row end'}, close, submit),
    h('h3', {}, 'Links that show this agent'),
    list,
  )
  const dialog = h('dialog', {class: 'dialog share'}, form)
  const showError = (failure: unknown) => {
    error.hidden = failure === undefined
    setText(error, failure instanceof ApiError || failure instanceof Error ? failure.message : failure === undefined ? '' : String(failure))
  }

  const refresh = async () => {
    const grants = (await api.shares()).filter((grant) => grant.agents.includes(agent))
    list.replaceChildren(...(grants.length ? grants.map(row) : [h('li', {class: 'empty'}, 'None')]))
  }
  const row = (grant: Share) => {
    const revoke = h('button', {type: 'button', class: 'danger revoke'}, 'Revoke')
    revoke.addEventListener('click', async () => {
      revoke.disabled = true
      try {
        await api.revokeShare(grant.id)
        await refresh()
      } catch (failure) {
        revoke.disabled = false
        showError(failure)
      }
    })
    const others = grant.agents.filter((name) => name !== agent)
    const text = `${grant.role}${grant.label ? ` · ${grant.label}` : ''} · until ${when(grant.expiresAt)}${others.length ? ` · also ${others.join(', ')}` : ''}`
    return h('li', {'data-id': grant.id}, h('span', {title: `share ${grant.id}, made ${when(grant.createdAt)}`}, text), revoke)
  }

  copy.addEventListener('click', async () => {
    link.select()
    // The clipboard API exists only in secure contexts; plain http on a LAN address falls back.
    const copied = await navigator.clipboard?.writeText(link.value).then(() => true, () => false)
    if (!copied) document.execCommand('copy')
    setText(copy, 'Copied')
  })
  close.addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => dialog.remove())
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    submit.disabled = true
    try {
      const {token} = await api.share({agents: [agent], role: role.value as Share['role'], expires: expires.value.trim(), label: label.value.trim() || undefined})
      link.value = `${location.origin}/?token=${encodeURIComponent(token)}`
      setText(copy, 'Copy')
      made.hidden = false
      showError(undefined)
      link.select()
      await refresh()
    } catch (failure) {
      showError(failure)
    } finally {
      submit.disabled = false
    }
  })
  document.body.append(dialog)
  dialog.showModal()
  refresh().catch(showError)
}
