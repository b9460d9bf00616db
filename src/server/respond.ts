import {STATUS_CODES, type ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'

import type {ApiError, RefusalCode} from '../shared/protocol.js'
import {SECURITY_HEADERS} from './headers.js'

type Headers = Record<string, string | number>

export function send(res: ServerResponse, status: number, body: string | Buffer, headers: Headers): void {
  res.writeHead(status, {...SECURITY_HEADERS, 'Content-Length': Buffer.byteLength(body), ...headers})
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

export function sendJson(res: ServerResponse, status: number, value: unknown, headers: Headers = {}): void {
  send(res, status, JSON.stringify(value), {'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', ...headers})
}

export function errorBody(code: string, message: string, details?: Record<string, unknown>): ApiError {
  return {error: {...details, code, message}}
}

export function sendError(res: ServerResponse, status: number, code: RefusalCode | string, message: string, details?: Record<string, unknown>, headers: Headers = {}): void {
  sendJson(res, status, errorBody(code, message, details), headers)
}

/**
 * Answers on a raw socket (a refused upgrade, a request Node could not parse) with the same
 * headers as any other refusal, then drops the connection, as ws itself does.
 */
export function refuseRaw(socket: Duplex, status: number, code: string, message: string, headers: Headers = {}): void {
  if (!socket.writable) {
    socket.destroy()
    return
  }
  const body = JSON.stringify(errorBody(code, message))
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Connection: close',
    'Content-Type: application/json; charset=utf-8',
    'Cache-Control: no-store',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries({...SECURITY_HEADERS, ...headers}).map(([name, value]) => `${name}: ${value}`),
  ]
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`, () => socket.destroy())
}
