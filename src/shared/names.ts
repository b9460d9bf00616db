import {MaestroError} from './errors.js'

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/

export const NAME_RULE = '1-64 letters, digits, "_" or "-", starting with a letter or digit'

/** Refuses anything tmux could read as a target pattern, an option or a shell word. */
export function assertAgentName(name: string): void {
  if (!NAME_PATTERN.test(name)) {
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 80)}…` : name)
    throw new MaestroError('INVALID_NAME', `invalid agent name ${shown}: use ${NAME_RULE}`, {name})
  }
}

/** `shop-frontend-cart` lives under shop › frontend. */
export function groupOf(name: string): string[] {
  return name.split('-').filter(Boolean).slice(0, -1)
}
