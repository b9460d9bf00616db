import * as Flags from '@oclif/core/flags'

import {BaseCommand} from '../base-command.js'
import {allowPassphrasePrompt} from '../store/passphrase.js'
import {DEFAULT_MAX_CLIENTS, DEFAULT_PORT} from '../server/defaults.js'

export default class Serve extends BaseCommand<typeof Serve> {
  static summary = 'Serve the web page and HTTP API for the agents, on this machine only by default (see SECURITY.md).'
  static description =
    'Prints one URL carrying a fresh token (or the one in MAESTRO_TOKEN / --token-file), valid until the server stops: opening it signs the browser in ' +
    'for sessionDays (default 30), across restarts, until --sign-out-all. ' +
    'Runs until Ctrl-C or SIGTERM. A --host other than loopback needs TLS. See SECURITY.md for the whole model.'
  static examples = [
    '<%= config.bin %> <%= command.id %> --open',
    '<%= config.bin %> <%= command.id %> --port 0 --readonly',
    '<%= config.bin %> <%= command.id %> --host 0.0.0.0 --tls-self-signed --allow-host devbox.lan',
  ]
  static flags = {
    host: Flags.string({summary: 'Address to listen on.', default: 'localhost'}),
    port: Flags.integer({char: 'p', summary: 'Port to listen on; 0 picks a free one.', default: DEFAULT_PORT, min: 0, max: 65_535}),
    open: Flags.boolean({summary: 'Open the page in the default browser.'}),
    readonly: Flags.boolean({char: 'r', summary: 'Viewers watch without typing; the API refuses every change.'}),
    'tls-cert': Flags.file({summary: 'PEM certificate to serve HTTPS with.', dependsOn: ['tls-key'], exists: true}),
    'tls-key': Flags.file({summary: 'PEM private key of --tls-cert.', dependsOn: ['tls-cert'], exists: true}),
    'tls-self-signed': Flags.boolean({summary: 'Serve HTTPS with a self-signed certificate kept in the state dir.', exclusive: ['tls-cert', 'tls-key']}),
    'allow-host': Flags.string({summary: 'Another host name the page may be reached by (repeatable).', multiple: true}),
    'max-clients': Flags.integer({summary: 'Most WebSockets open at once.', default: DEFAULT_MAX_CLIENTS, min: 1}),
    insecure: Flags.boolean({summary: 'Allow plain HTTP on a non-loopback --host (the token travels in clear).'}),
    'sign-out-all': Flags.boolean({summary: 'Replace the session secret: every browser signed in before must open the new URL.'}),
    'token-file': Flags.file({summary: 'Read the token from this file instead of making one (never pass a token as an argument).', exists: true}),
  }

  async run(): Promise<void> {
    const {flags} = this
    allowPassphrasePrompt()
    // Listened for before anything starts: whoever reads the URL may stop the server at once, and
    // a signal meanwhile must still close it properly rather than kill the process outright.
    const stopped = new Promise<void>((resolve) => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    // Imported here: the server is a chunk of its own, which no other command loads.
    const {startServer} = await import('../server/index.js')
    const server = await startServer({
      context: this.context,
      tmux: this.tmux,
      host: flags.host,
      port: flags.port,
      readonly: flags.readonly,
      tlsCert: flags['tls-cert'],
      tlsKey: flags['tls-key'],
      tlsSelfSigned: flags['tls-self-signed'],
      allowHosts: flags['allow-host'],
      maxClients: flags['max-clients'],
      insecure: flags.insecure,
      tokenFile: flags['token-file'],
      rotateSessionSecret: flags['sign-out-all'],
    })
    // Written directly: --json silences this.log, and these lines must be seen either way.
    for (const warning of server.warnings) process.stderr.write(`WARNING: ${warning}\n`)
    if (server.fingerprint) process.stderr.write(`TLS certificate SHA-256 fingerprint: ${server.fingerprint}\n`)
    const {url, host, port, tls, readonly} = server
    // One line either way, so scripts can read the URL as soon as it is printed.
    process.stdout.write(`${this.jsonEnabled() ? JSON.stringify({url, host, port, tls, readonly}) : `maestro serving on ${url}`}\n`)
    if (flags.open) {
      const {default: open} = await import('open')
      await open(url).catch((error: Error) => process.stderr.write(`could not open a browser: ${error.message}\n`))
    }
    await stopped
    await server.close()
  }
}
