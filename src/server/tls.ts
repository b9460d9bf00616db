import {X509Certificate, createPrivateKey, generateKeyPairSync, randomBytes, sign} from 'node:crypto'
import {chmod, readFile, stat} from 'node:fs/promises'
import {isIP} from 'node:net'
import {join} from 'node:path'
import {createSecureContext} from 'node:tls'

import {MaestroError} from '../shared/errors.js'
import {writePrivateFile} from '../store/files.js'
import {assertPrivateFile} from './auth.js'

export interface TlsMaterial {
  cert: string
  key: string
  /** SHA-256 fingerprint, for the user to compare with what the browser shows. */
  fingerprint: string
}

/**
 * Forward-secret AEAD suites only: TLS 1.3 (all of whose suites are AEAD) and TLS 1.2 with ECDHE
 * and AES-GCM or ChaCha20-Poly1305. No CBC, no SHA-1 MACs, no static RSA key exchange.
 */
export const TLS_OPTIONS = {
  minVersion: 'TLSv1.2',
  ciphers: [
    'TLS_AES_128_GCM_SHA256',
    'TLS_AES_256_GCM_SHA384',
    'TLS_CHACHA20_POLY1305_SHA256',
    'ECDHE-ECDSA-AES128-GCM-SHA256',
    'ECDHE-RSA-AES128-GCM-SHA256',
    'ECDHE-ECDSA-AES256-GCM-SHA384',
    'ECDHE-RSA-AES256-GCM-SHA384',
    'ECDHE-ECDSA-CHACHA20-POLY1305',
    'ECDHE-RSA-CHACHA20-POLY1305',
  ].join(':'),
  honorCipherOrder: true,
} as const

/** Sent on every answer under TLS, except where `sendsHsts` says not. */
export const HSTS = 'max-age=31536000'

/**
 * Whether an answer for this Host header carries HSTS: always, except for the name `localhost`
 * (and its subdomains). A browser keeps HSTS per host name whatever the port, so a trusted
 * certificate for localhost (mkcert, say) would force every other local development server to
 * HTTPS for a year, and on loopback there is no network path to downgrade. IP addresses get it:
 * browsers ignore HSTS for them (RFC 6797, 8.1), so it costs nothing there.
 */
export function sendsHsts(host: string | undefined): boolean {
  const name = (host ?? '').replace(/:\d*$/, '').toLowerCase()
  return name !== 'localhost' && !name.endsWith('.localhost')
}

export async function loadTls(certFile: string, keyFile: string): Promise<TlsMaterial> {
  await assertPrivateFile(keyFile, 'TLS key')
  const read = (file: string) =>
    readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
      throw new MaestroError('INVALID_ARGUMENT', `cannot read ${file}: ${error.code ?? error.message}`)
    })
  const [cert, key] = await Promise.all([read(certFile), read(keyFile)])
  try {
    createSecureContext({cert, key})
    return {cert, key, fingerprint: new X509Certificate(cert).fingerprint256}
  } catch (error) {
    throw new MaestroError('INVALID_ARGUMENT', `${certFile} and ${keyFile} are not a matching PEM certificate and key: ${(error as Error).message}`)
  }
}

/**
 * A certificate for `names`, kept in the state dir (key 0600) so the browser's exception for it
 * survives restarts; made anew when it is missing, expiring or does not cover every name.
 */
export async function selfSignedTls(stateDir: string, names: string[]): Promise<TlsMaterial> {
  const certPath = join(stateDir, 'tls', 'cert.pem')
  const keyPath = join(stateDir, 'tls', 'key.pem')
  const existing = await Promise.all([readFile(certPath, 'utf8'), readFile(keyPath, 'utf8')]).catch(() => undefined)
  if (existing && covers(existing[0], existing[1], names)) {
    // The key is maestro's own: a looser mode (a restored backup, say) is tightened, not trusted.
    if (((await stat(keyPath)).mode & 0o077) !== 0) await chmod(keyPath, 0o600)
    return {cert: existing[0], key: existing[1], fingerprint: new X509Certificate(existing[0]).fingerprint256}
  }
  const made = makeSelfSigned(names)
  await writePrivateFile(keyPath, made.key)
  await writePrivateFile(certPath, made.cert)
  return made
}

function covers(cert: string, key: string, names: string[]): boolean {
  try {
    const x509 = new X509Certificate(cert)
    const soon = Date.now() + 7 * 86_400_000
    return (
      x509.checkPrivateKey(createPrivateKey(key)) &&
      Date.parse(x509.validTo) > soon &&
      names.every((name) => (isIP(name) ? x509.checkIP(name) : x509.checkHost(name)) !== undefined)
    )
  } catch {
    return false
  }
}

/** A P-256 certificate signed by its own key, valid for `names` (DNS names or IP addresses). */
export function makeSelfSigned(names: string[], now = new Date()): TlsMaterial {
  const {privateKey, publicKey} = generateKeyPairSync('ec', {namedCurve: 'P-256'})
  const ecdsaSha256 = seq(oid('1.2.840.10045.4.3.2'))
  const subject = seq(set(seq(oid('2.5.4.3'), der(0x0c, Buffer.from('maestro serve')))))
  const notAfter = new Date(now.getTime() + 397 * 86_400_000)
  const altNames = names.map((name) => (isIP(name) ? der(0x87, ipBytes(name)) : der(0x82, Buffer.from(name))))
  // A positive INTEGER in its shortest form: a first byte of 0 before one under 0x80 is padding
  // DER forbids, and the certificate would not parse (one in 256 before this).
  const serial = randomBytes(16)
  serial[0] = (serial[0] & 0x3f) | 0x40
  const tbs = seq(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    ecdsaSha256,
    subject,
    seq(time(new Date(now.getTime() - 60_000)), time(notAfter)),
    subject,
    publicKey.export({type: 'spki', format: 'der'}),
    der(
      0xa3,
      seq(
        seq(oid('2.5.29.19'), der(0x04, seq())),
        seq(oid('2.5.29.37'), der(0x04, seq(oid('1.3.6.1.5.5.7.3.1')))),
        seq(oid('2.5.29.17'), der(0x04, seq(...altNames))),
      ),
    ),
  )
  const signature = sign('sha256', tbs, privateKey)
  const body = seq(tbs, ecdsaSha256, der(0x03, Buffer.concat([Buffer.from([0]), signature])))
  const lines = body.toString('base64').match(/.{1,64}/g) ?? []
  const cert = `-----BEGIN CERTIFICATE-----\n${lines.join('\n')}\n-----END CERTIFICATE-----\n`
  const key = privateKey.export({type: 'pkcs8', format: 'pem'}).toString()
  return {cert, key, fingerprint: new X509Certificate(cert).fingerprint256}
}

// A minimal DER writer: just the types a self-signed server certificate needs.
function der(tag: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts)
  let length: Buffer
  if (body.length < 0x80) {
    length = Buffer.from([body.length])
  } else {
    const bytes: number[] = []
    for (let n = body.length; n > 0; n >>= 8) bytes.unshift(n & 0xff)
    length = Buffer.from([0x80 | bytes.length, ...bytes])
  }
  return Buffer.concat([Buffer.from([tag]), length, body])
}

const seq = (...parts: Buffer[]) => der(0x30, ...parts)
const set = (...parts: Buffer[]) => der(0x31, ...parts)

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split('.').map(Number)
  const bytes = [40 * first + second]
  for (const value of rest) {
    const chunk = [value & 0x7f]
    for (let n = value >> 7; n > 0; n >>= 7) chunk.unshift((n & 0x7f) | 0x80)
    bytes.push(...chunk)
  }
  return der(0x06, Buffer.from(bytes))
}

function time(date: Date): Buffer {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14)
  // RFC 5280: UTCTime through 2049, GeneralizedTime from 2050.
  return date.getUTCFullYear() < 2050 ? der(0x17, Buffer.from(`${iso.slice(2)}Z`)) : der(0x18, Buffer.from(`${iso}Z`))
}

function ipBytes(address: string): Buffer {
  if (isIP(address) === 4) return Buffer.from(address.split('.').map(Number))
  const [head, tail] = address.includes('::') ? address.split('::') : [address, undefined]
  const left = head ? head.split(':') : []
  const right = tail ? tail.split(':') : []
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right]
  const bytes = Buffer.alloc(16)
  groups.forEach((group, index) => bytes.writeUInt16BE(Number.parseInt(group, 16), index * 2))
  return bytes
}
