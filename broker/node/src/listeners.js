// The broker's listeners: MQTT over TCP, MQTT over TLS, MQTT over WebSocket with TLS.
// Each connection is told its transport, which the dashboard audits and Sessions shows.
import fs from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import tls from 'node:tls'
import { WebSocketServer, createWebSocketStream } from 'ws'

// TLS 1.2 and 1.3 only, and only AEAD suites with forward secrecy (TLS 1.3's are all AEAD).
export const TLS_MIN_VERSION = 'TLSv1.2'
export const TLS_CIPHERS = [
  'TLS_AES_128_GCM_SHA256',
  'TLS_AES_256_GCM_SHA384',
  'TLS_CHACHA20_POLY1305_SHA256',
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305'
].join(':')

export function parseBind (value) {
  if (!value || value === 'off') return null
  const match = /^\[?([^\]]*?)\]?:(\d+)$/.exec(value)
  if (!match) throw new Error(`not host:port: ${JSON.stringify(value)}`)
  return { host: match[1] || '0.0.0.0', port: Number(match[2]) }
}

function tlsOptions (certfile, keyfile) {
  return {
    cert: fs.readFileSync(certfile),
    key: fs.readFileSync(keyfile),
    minVersion: TLS_MIN_VERSION,
    ciphers: TLS_CIPHERS,
    honorCipherOrder: true
  }
}

function listening (server, bind) {
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(bind.port, bind.host, () => {
      server.removeListener('error', reject)
      resolve(server)
    })
  })
}

// Starts the listeners that are not "off"; returns [{name, server, bind}].
export async function listen (broker, { mqtt, mqtts, wss, certfile, keyfile, log }) {
  const started = []
  const quiet = (error) => log.debug(`transport: ${error.message}`)
  const tcp = parseBind(mqtt)
  if (tcp) {
    const server = net.createServer((socket) => {
      socket.on('error', quiet)
      socket.csTransport = 'mqtt'
      broker.handle(socket)
    })
    started.push({ name: 'mqtt', server: await listening(server, tcp), bind: tcp })
  }
  const secure = parseBind(mqtts)
  const ws = parseBind(wss)
  const options = secure || ws ? tlsOptions(certfile, keyfile) : null
  if (secure) {
    const server = tls.createServer(options, (socket) => {
      socket.on('error', quiet)
      socket.csTransport = 'mqtts'
      broker.handle(socket)
    })
    server.on('tlsClientError', quiet)
    started.push({ name: 'mqtts', server: await listening(server, secure), bind: secure })
  }
  if (ws) {
    const server = https.createServer(options)
    server.on('tlsClientError', quiet)
    const sockets = new WebSocketServer({ server, perMessageDeflate: false })
    sockets.on('connection', (socket, req) => {
      const stream = createWebSocketStream(socket)
      stream.on('error', quiet)
      stream.csTransport = 'wss'
      stream.csSocket = req.socket
      broker.handle(stream, req)
    })
    started.push({ name: 'wss', server: await listening(server, ws), bind: ws })
  }
  return started
}
