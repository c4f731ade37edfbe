// The broker's HTTP client of the dashboard's hook API (docs/broker-contract.md).
//
// Keep-alive connections, a bounded number of them (a reconnect storm queues its authn calls
// here instead of opening thousands of sockets), a timeout on every call. A request that
// fails on a reused connection (the server had just closed it, or keeps it open without
// answering on it, as Django's development server was seen to) is sent once more on a new
// connection: on a reused one the first answer must come within REUSED_TIMEOUT_MS.
import http from 'node:http'
import https from 'node:https'

const REUSED_TIMEOUT_MS = 3000

export class HookError extends Error {
  constructor (message, status = 0) {
    super(message)
    this.status = status
  }
}

export class Dashboard {
  constructor ({ url, secret, timeoutMs = 5000, maxSockets = 64 }) {
    this.base = new URL(url.endsWith('/') ? url : url + '/')
    this.transport = this.base.protocol === 'https:' ? https : http
    this.agent = new this.transport.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets })
    this.fresh = new this.transport.Agent({ keepAlive: false, maxSockets })
    this.headers = { Authorization: `Bearer ${secret}`, Accept: 'application/json' }
    this.timeoutMs = timeoutMs
  }

  post (path, body) {
    return this.request('POST', path, JSON.stringify(body))
  }

  get (path) {
    return this.request('GET', path, null)
  }

  async request (method, path, body) {
    try {
      return await this._once(method, path, body, this.agent)
    } catch (error) {
      if (!error.reusedSocket) throw error
      return this._once(method, path, body, this.fresh)
    }
  }

  _once (method, path, body, agent) {
    const url = new URL(path, this.base)
    const headers = { ...this.headers }
    if (body !== null) {
      headers['Content-Type'] = 'application/json'
      headers['Content-Length'] = Buffer.byteLength(body)
    }
    return new Promise((resolve, reject) => {
      const req = this.transport.request(url, { method, headers, agent }, (res) => {
        const chunks = []
        res.on('data', (chunk) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8')
          if (res.statusCode < 200 || res.statusCode >= 300) {
            reject(new HookError(`${method} ${url.pathname} answered ${res.statusCode}: ${text.slice(0, 200)}`, res.statusCode))
            return
          }
          try {
            resolve(JSON.parse(text))
          } catch {
            reject(new HookError(`${method} ${url.pathname} answered ${res.statusCode} with a body that is not JSON`, res.statusCode))
          }
        })
      })
      req.on('socket', () => {
        const ms = req.reusedSocket ? REUSED_TIMEOUT_MS : this.timeoutMs
        req.setTimeout(ms, () => {
          const error = new HookError(`${method} ${url.pathname}: no answer in ${ms} ms`)
          error.stalled = req.reusedSocket
          req.destroy(error)
        })
      })
      req.on('error', (error) => {
        error.reusedSocket = req.reusedSocket && (error.code === 'ECONNRESET' || error.stalled === true)
        reject(error)
      })
      req.end(body === null ? undefined : body)
    })
  }

  close () {
    this.agent.destroy()
    this.fresh.destroy()
  }
}
