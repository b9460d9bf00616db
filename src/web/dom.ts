type Child = Node | string | null | undefined | false
type Attrs = Record<string, string | number | boolean | null | undefined>

/**
 * Creates an element. Attributes that are false, null or undefined are left out; `true` sets an
 * empty attribute. Text children become text nodes, so agent-supplied strings are never parsed as HTML.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue
    element.setAttribute(key, value === true ? '' : String(value))
  }
  for (const child of children) if (child) element.append(child)
  return element
}

/** Writes only on change, so unchanged parts of the page cause no layout or repaint. */
export function setText(node: Element, text: string): void {
  if (node.textContent !== text) node.textContent = text
}

export function setAttr(node: Element, name: string, value: string | null): void {
  if (value === null) {
    if (node.hasAttribute(name)) node.removeAttribute(name)
  } else if (node.getAttribute(name) !== value) node.setAttribute(name, value)
}

/** Makes `parent`'s children exactly `wanted`, in order, moving only the nodes that are out of place. */
export function reconcileChildren(parent: Element, wanted: readonly Element[]): void {
  const keep = new Set<Node>(wanted)
  for (const child of [...parent.children]) if (!keep.has(child)) child.remove()
  wanted.forEach((node, index) => {
    if (parent.children[index] !== node) parent.insertBefore(node, parent.children[index] ?? null)
  })
}

const SVG_NS = 'http://www.w3.org/2000/svg'

/** A 16×16 stroke icon from one path, coloured by `currentColor`. */
export function icon(path: string, label?: string): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg')
  svg.setAttribute('viewBox', '0 0 16 16')
  svg.setAttribute('class', 'icon')
  if (label) svg.setAttribute('aria-label', label)
  else svg.setAttribute('aria-hidden', 'true')
  const shape = document.createElementNS(SVG_NS, 'path')
  shape.setAttribute('d', path)
  svg.append(shape)
  return svg
}

/** A button showing only an icon; `label` is its accessible name and tooltip. */
export function iconButton(path: string, label: string, className = ''): HTMLButtonElement {
  return h('button', {type: 'button', class: `icon-button ${className}`.trim(), title: label, 'aria-label': label}, icon(path))
}

export const ICONS = {
  chevron: 'M6 4l4 4-4 4',
  eye: 'M1.5 8s2.5-4.5 6.5-4.5S14.5 8 14.5 8 12 12.5 8 12.5 1.5 8 1.5 8zM8 6a2 2 0 100 4 2 2 0 000-4z',
  plus: 'M8 3v10M3 8h10',
  menu: 'M2.5 4h11M2.5 8h11M2.5 12h11',
  bell: 'M4 11V7a4 4 0 018 0v4l1.5 1.5h-11zM6.5 14h3',
  note: 'M3 2.5h10v11H3zM5.5 6h5M5.5 9h5',
  close: 'M4 4l8 8M12 4l-8 8',
  help: 'M6 6a2 2 0 113 1.7c-.7.4-1 .8-1 1.6M8 12v.5',
  pencil: 'M10.5 2.5l3 3-8 8h-3v-3z',
  link: 'M7 9.5a2.5 2.5 0 003.5 0l2.5-2.5a2.5 2.5 0 00-3.5-3.5L8.5 4.5M9 6.5a2.5 2.5 0 00-3.5 0L3 9a2.5 2.5 0 003.5 3.5l1-1',
  trash: 'M2.5 4.5h11M6 4.5V3h4v1.5M4 4.5l.7 9h6.6l.7-9',
  archive: 'M2 3h12v3H2zM3 6v7.5h10V6M6.5 9h3',
} as const
