import {MaestroError} from './errors.js'

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

export const NAME_RULE = '1-64 letters, digits, "_" or "-", starting with a letter or digit'

export function isAgentName(name: string): boolean {
  return NAME_PATTERN.test(name)
}

/** Refuses anything tmux could read as a target pattern, an option or a shell word. */
export function assertAgentName(name: string): void {
  if (!isAgentName(name)) {
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)
    throw new MaestroError('INVALID_NAME', `invalid agent name ${shown}: use ${NAME_RULE}`, {name})
  }
}

/** The characters of a name in the order English sorts them, letters without regard to case. */
const NAME_ORDER = '_-0123456789abcdefghijklmnopqrstuvwxyz'

/**
 * A name's place in the order below, as a string that sorts by code unit: lower case, `_` as "!"
 * so that it comes before `-` and the digits, and any character outside the order as " ", before
 * them all. Computed once per name, it spares a sort of many agents most of its work.
 */
function collationKey(name: string): string {
  if (isAgentName(name)) return name.toLowerCase().replaceAll('_', '!')
  let key = ''
  for (let index = 0; index < name.length; index++) {
    const char = name[index].toLowerCase()
    key += char === '_' ? '!' : NAME_ORDER.includes(char) ? char : ' '
  }
  return key
}

/** On a tie in all but case, lower case first: the first character that differs decides. */
function compareKeyed(keyA: string, a: string, keyB: string, b: string): number {
  if (keyA !== keyB) return keyA < keyB ? -1 : 1
  return a === b ? 0 : a > b ? -1 : 1
}

/**
 * Orders agent names as English collation does (`localeCompare` in an English locale): `_`, `-`,
 * digits, then letters whatever their case, and on a tie in all but case, lower case first. Without
 * ICU: setting up a collator would cost `maestro ls` more than listing the agents.
 */
export function compareNames(a: string, b: string): number {
  return compareKeyed(collationKey(a), a, collationKey(b), b)
}

/** `items` in the order of their names (compareNames), each name's key computed once. */
export function sortByName<T>(items: T[], nameOf: (item: T) => string): T[] {
  const keyed = items.map((item) => {
    const name = nameOf(item)
    return {item, name, key: collationKey(name)}
  })
  keyed.sort((x, y) => compareKeyed(x.key, x.name, y.key, y.name))
  return keyed.map(({item}) => item)
}

/** `shop-frontend-cart` lives under shop › frontend. */
export function groupOf(name: string): string[] {
  const parts: string[] = []
  if (!name.includes('-')) return parts
  for (const part of name.split('-')) if (part) parts.push(part)
  parts.pop()
  return parts
}

/** Host names follow the agent name rule, so `HOST:NAME` splits at its only ":". */
export function assertHostName(host: string): void {
  if (!NAME_PATTERN.test(host)) {
    const shown = JSON.stringify(host.length > 80 ? `${host.slice(0, 80)}…` : host)
    throw new MaestroError('INVALID_NAME', `invalid host name ${shown}: use ${NAME_RULE}`, {host})
  }
}

/** Where an agent lives: `api` is on this machine, `build:api` on the host named build. */
export interface AgentId {
  host: string | null
  name: string
}

/** Splits and checks an agent id (`NAME` or `HOST:NAME`). */
export function parseAgentId(id: string): AgentId {
  const colon = id.indexOf(':')
  if (colon === -1) {
    assertAgentName(id)
    return {host: null, name: id}
  }
  const host = id.slice(0, colon)
  const name = id.slice(colon + 1)
  assertHostName(host)
  assertAgentName(name)
  return {host, name}
}

export function formatAgentId(host: string | null, name: string): string {
  return host ? `${host}:${name}` : name
}
