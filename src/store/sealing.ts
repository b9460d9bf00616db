import {createCipheriv, createDecipheriv, randomBytes, scrypt} from 'node:crypto'

import {MaestroError} from '../shared/errors.js'
import {passphrase} from './passphrase.js'

/**
 * How notes are encrypted, stored beside them: AES-256-GCM under a key derived from the
 * passphrase with scrypt. The parameters travel with the data (notes file, each archived note),
 * so that a later change of them never strands what was sealed before. `check` is a known text
 * sealed with the key: a wrong passphrase is told apart from damaged data, even with no notes.
 */
export interface Sealing {
  cipher: 'aes-256-gcm'
  kdf: 'scrypt'
  salt: string
  N: number
  r: number
  p: number
  check: string
}

/** Text sealed with a Sealing's key, with the parameters to open it again. */
export interface SealedText {
  sealing: Sealing
  sealed: string
}

/**
 * scrypt with N = 2^15, r = 8: 32 MiB and some 100 ms per derivation, paid once per process
 * (the server derives at start). Raising them later only affects notes sealed afterwards.
 */
const COST = {N: 2 ** 15, r: 8, p: 1}
const CHECK_TEXT = 'maestro notes'
/** Binds every ciphertext to its use: a sealed note cannot be passed off as anything else of ours. */
const AAD = Buffer.from('maestro-note-v1')
const MIN_PASSPHRASE = 8

const keys = new Map<string, Buffer>()

function derive(secret: string, sealing: Pick<Sealing, 'salt' | 'N' | 'r' | 'p'>): Promise<Buffer> {
  const {salt, N, r, p} = sealing
  return new Promise((resolve, reject) => {
    scrypt(secret, Buffer.from(salt, 'base64'), 32, {N, r, p, maxmem: 256 * N * r + 16 * 1024 * 1024}, (error, key) => (error ? reject(error) : resolve(key)))
  })
}

/** Seals text under a key: a fresh 96-bit nonce each time, `iv.tag.ciphertext` in base64. */
export function seal(key: Buffer, text: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(AAD)
  const body = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()])
  return [iv, cipher.getAuthTag(), body].map((part) => part.toString('base64')).join('.')
}

/** Opens sealed text; throws when the key is not the one it was sealed with or the data was changed. */
export function unseal(key: Buffer, sealed: string): string {
  const [iv, tag, body] = sealed.split('.').map((part) => Buffer.from(part, 'base64'))
  if (!iv || !tag || !body || iv.length !== 12 || tag.length !== 16) throw new Error('not sealed text')
  const decipher = createDecipheriv('aes-256-gcm', key, iv).setAAD(AAD).setAuthTag(tag)
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
}

/** New parameters and their key, from the passphrase; refused when there is none or it is short. */
export async function newSealing(): Promise<{sealing: Sealing; key: Buffer}> {
  const secret = await passphrase()
  if (secret === undefined) throw noPassphrase('encrypting notes needs a passphrase')
  if (secret.length < MIN_PASSPHRASE) {
    throw new MaestroError('INVALID_ARGUMENT', `the passphrase has ${secret.length} characters; use at least ${MIN_PASSPHRASE}`)
  }
  const base = {salt: randomBytes(16).toString('base64'), ...COST}
  const key = await derive(secret, base)
  const sealing: Sealing = {cipher: 'aes-256-gcm', kdf: 'scrypt', ...base, check: seal(key, CHECK_TEXT)}
  keys.set(sealing.salt, key)
  return {sealing, key}
}

/**
 * The key of these parameters, derived once per process. Undefined when no passphrase was given
 * (the notes are locked); WRONG_PASSPHRASE when the one given does not open them.
 */
export async function keyOf(sealing: Sealing): Promise<Buffer | undefined> {
  const known = keys.get(sealing.salt)
  if (known) return known
  if (sealing.cipher !== 'aes-256-gcm' || sealing.kdf !== 'scrypt') throw new MaestroError('NOTES_CORRUPT', `notes are sealed with ${sealing.cipher}/${sealing.kdf}, which this maestro does not know`)
  const secret = await passphrase()
  if (secret === undefined) return undefined
  const key = await derive(secret, sealing)
  try {
    if (unseal(key, sealing.check) !== CHECK_TEXT) throw new Error('check text differs')
  } catch {
    throw new MaestroError('WRONG_PASSPHRASE', 'the passphrase does not open the notes; nothing was read or changed')
  }
  keys.set(sealing.salt, key)
  return key
}

/** Like keyOf, for work that cannot go on without the key. */
export async function requireKey(sealing: Sealing): Promise<Buffer> {
  const key = await keyOf(sealing)
  if (!key) throw noPassphrase('the notes are encrypted')
  return key
}

/** Opens sealed text, or says it was damaged (the key itself was checked). */
export function open(key: Buffer, sealed: string, what: string): string {
  try {
    return unseal(key, sealed)
  } catch {
    throw new MaestroError('NOTES_CORRUPT', `${what} cannot be decrypted: it was damaged or changed; nothing was changed`)
  }
}

function noPassphrase(why: string): MaestroError {
  return new MaestroError('NOTES_LOCKED', `${why}: set MAESTRO_PASSPHRASE, or run this on a terminal to be asked for it; nothing was read or changed`)
}
