import {isIP} from 'node:net'

/** A host as it appears in a Host header or URL: IPv6 addresses in brackets, lower case. */
export function urlHost(host: string): string {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase()
  return isIP(bare) === 6 ? `[${bare}]` : bare
}

export function isLoopback(host: string): boolean {
  const bare = urlHost(host).replace(/^\[(.*)\]$/, '$1')
  return bare === 'localhost' || bare === '::1' || (isIP(bare) === 4 && bare.startsWith('127.'))
}

export function isWildcard(host: string): boolean {
  const bare = urlHost(host).replace(/^\[(.*)\]$/, '$1')
  return bare === '0.0.0.0' || bare === '::'
}

/**
 * Which Host headers the server answers: loopback names, the host it is bound to and the
 * --allow-host names, each only with the server's own port. A DNS-rebound name is none of these.
 */
export class HostPolicy {
  readonly names: ReadonlySet<string>

  constructor(
    boundHost: string,
    allowHosts: readonly string[],
    readonly port: number,
    readonly scheme: 'http' | 'https',
  ) {
    const names = ['localhost', '127.0.0.1', '[::1]', ...allowHosts]
    if (!isWildcard(boundHost)) names.push(boundHost)
    this.names = new Set(names.map(urlHost))
  }

  /**
   * The server's origin as reached through this Host header, or undefined when the header is
   * missing, malformed, names another host or another port.
   */
  originFor(hostHeader: string | undefined): string | undefined {
    if (hostHeader === undefined) return undefined
    const match = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(?::(\d{1,5}))?$/i.exec(hostHeader)
    if (!match) return undefined
    const name = urlHost(match[1])
    const defaultPort = this.scheme === 'https' ? 443 : 80
    const port = match[2] === undefined ? defaultPort : Number(match[2])
    if (!this.names.has(name) || port !== this.port) return undefined
    // Browsers leave the scheme's default port out of Origin.
    return `${this.scheme}://${name}${port === defaultPort ? '' : `:${port}`}`
  }
}
