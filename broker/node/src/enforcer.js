// The dashboard's decisions enforced in aedes' hooks (docs/broker-contract.md).
//
// - One POST /broker/v1/authn per CONNECT, before aedes touches any session: wrong
//   credentials never disturb a live client or a stored session.
// - The grant (the compiled `acl`, the token's expiry) belongs to the connection object.
//   Sessions are keyed by username and client id ("name@org/clientid"), so client ids are
//   per org and a grant can never be picked up by another connection; within one org a
//   client id held live by another username is refused.
// - Every PUBLISH, will, SUBSCRIBE and delivery (retained and queued included) is decided
//   by the connection's grant inside this process; no HTTP call per message.
// - Events (connected, disconnected, denied publishes and subscribes, refused CONNECTs) are
//   posted in batches; the revocation feed is polled and acted on.
import { randomUUID } from 'node:crypto'
import { Acl, InvalidAcl } from './acl.js'

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/ // eslint-disable-line no-control-regex
const CONTROL_ALL = new RegExp(CONTROL.source, 'g')
const MAX_BATCH = 500
// Denials a connection may have audited one by one per minute (denialWindowMs): a client
// publishing outside its ACL in a loop must not flood the org's audit log. Beyond it they are
// counted, and the next recorded denial says how many were left out.
const DENIALS_PER_MINUTE = 60
const MAX_BUFFERED = 100_000
// Revocations that end the credential: the will is not published (the client no longer
// holds the right to speak). An admin's Disconnect is an ordinary server close: it is.
const WILL_ON_KICK = new Set(['admin_disconnect'])

const RC = { identifierRejected: 2, serverUnavailable: 3, badCredentials: 4, notAuthorized: 5 }

function refusal (code, message) {
  const error = new Error(message)
  error.returnCode = code
  return error
}

function normalIp (address) {
  if (!address) return ''
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address
}

// What the audit keeps of a refused client id or username: control characters as \xNN.
function shown (value) {
  return value.replace(CONTROL_ALL, (c) => '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0'))
}

function peerOf (conn) {
  const socket = conn.csSocket || conn
  return { ip: normalIp(socket.remoteAddress), port: socket.remotePort || 0 }
}

function peername ({ ip, port }) {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}

function tokenIdOf (password) {
  // cst_<id>_<secret>: the id names the token; the secret never leaves this function.
  if (!password.startsWith('cst_')) return ''
  const id = password.split('_', 3)[1]
  return id || ''
}

let pending = 0

export class Enforcer {
  constructor ({ broker, dashboard, clientIds, node, log, pollMs = 250, flushMs = 500, denialWindowMs = 60_000 }) {
    this.broker = broker
    this.dashboard = dashboard
    this.clientIds = clientIds
    this.node = node
    this.log = log
    this.pollMs = pollMs
    this.flushMs = flushMs
    this.denialWindowMs = denialWindowMs
    this.cursor = null
    this.outbox = []
    this.droppedEvents = 0
    this.byUsername = new Map()
    this.dropped = new WeakSet() // denied PUBLISH packets: acknowledged, never routed
    this.timers = []
    this.stopped = false
    this._install()
  }

  _install () {
    const broker = this.broker
    broker.preConnect = (client, packet, cb) => this.preConnect(client, packet, cb)
    broker.authenticate = (client, username, password, cb) => {
      this.authenticate(client, username, password).then(() => cb(null, true), (error) => cb(error, false))
    }
    broker.authorizePublish = (client, packet, cb) => this.authorizePublish(client, packet, cb)
    broker.authorizeSubscribe = (client, sub, cb) => this.authorizeSubscribe(client, sub, cb)
    broker.authorizeForward = (client, packet) => this.authorizeForward(client, packet)

    // A denied PUBLISH is acknowledged (as EMQX's default deny_action "ignore" does) and
    // dropped here, before it is retained, queued or routed.
    const publish = broker.publish.bind(broker)
    broker.publish = (packet, client, done) => {
      if (this.dropped.has(packet)) {
        this.dropped.delete(packet)
        const callback = typeof client === 'function' ? client : done
        if (callback) callback(null)
        return
      }
      publish(packet, client, done)
    }
    // A client closed because its id was taken over carries the reason to its event.
    const register = broker.registerClient.bind(broker)
    broker.registerClient = (client) => {
      const old = broker.clients[client.id]
      if (old && old.cs && !old.cs.kickReason) old.cs.kickReason = 'takenover'
      register(client)
    }
    broker.mq.on('$SYS/+/new/clients', (packet, done) => {
      const local = broker.clients[packet.payload.toString()]
      if (local && local.cs && packet.topic.split('/')[1] !== broker.id && !local.cs.kickReason) {
        local.cs.kickReason = 'takenover'
      }
      done()
    })

    broker.on('client', (client) => this.connected(client))
    broker.on('clientDisconnect', (client) => this.disconnected(client))
    broker.on('subscribe', (subs, client) => {
      for (const sub of subs) if (sub.qos !== 128) this.subscribed(client, sub.topic, sub.qos)
    })
    broker.on('unsubscribe', (topics, client) => {
      for (const topic of topics) this.unsubscribed(client, topic)
    })
    broker.on('keepaliveTimeout', (client) => {
      if (client.cs && !client.cs.kickReason) client.cs.kickReason = 'keepalive_timeout'
    })
    broker.on('clientError', (client, error) => this.log.debug(`client ${client.cs?.clientId}: ${error.message}`))
    broker.on('connectionError', (client, error) => this.log.debug(`connection: ${error.message}`))
  }

  // --- CONNECT ------------------------------------------------------------------------------

  preConnect (client, packet, cb) {
    const original = typeof packet.clientId === 'string' ? packet.clientId : ''
    const cs = {
      clientId: original,
      transport: client.conn.csTransport || 'mqtt',
      peer: peerOf(client.conn),
      protoVer: String(packet.protocolVersion || ''),
      keepalive: Number.isInteger(packet.keepalive) ? packet.keepalive : null,
      cleanStart: packet.clean !== false,
      expiryInterval: packet.protocolVersion === 5 ? (packet.properties?.sessionExpiryInterval ?? 0) : null,
      refusal: null,
      kickReason: ''
    }
    client.cs = cs
    const username = typeof packet.username === 'string' ? packet.username : ''
    if (CONTROL.test(original)) cs.refusal = [RC.identifierRejected, 'client id holds a control character']
    else if (CONTROL.test(username)) cs.refusal = [RC.badCredentials, 'username holds a control character']
    else if (original === '' && !packet.clean) cs.refusal = [RC.identifierRejected, 'an empty client id needs a clean session']
    else if (packet.protocolVersion === 3 && original.length > this.broker.maxClientsIdLength) {
      cs.refusal = [RC.identifierRejected, 'MQTT 3.1 client ids are at most 23 characters']
    }
    if (original === '') cs.clientId = 'auto-' + randomUUID()
    // Until the dashboard has answered, aedes knows this connection by an id no client can
    // send (control characters are refused above): a failed CONNECT cleans up nothing real.
    packet.clientId = '\u0001' + (pending++).toString(36)
    cb(null, true)
  }

  async authenticate (client, username, password) {
    const cs = client.cs
    username = typeof username === 'string' ? username : ''
    if (cs.refusal) {
      this.refused(client, username, cs.refusal[1])
      throw refusal(cs.refusal[0], cs.refusal[1])
    }
    const secret = password ? password.toString('utf8') : ''
    let answer
    try {
      if (this.cursor === null) await this.startCursor()
      answer = await this.dashboard.post('broker/v1/authn', {
        username,
        password: secret,
        clientid: cs.clientId,
        peerhost: cs.peer.ip,
        transport: cs.transport,
        proto_ver: cs.protoVer
      })
    } catch (error) {
      this.log.warning(`refusing ${JSON.stringify(cs.clientId)}: the dashboard is unreachable (${error.message})`)
      throw refusal(RC.serverUnavailable, 'the dashboard is unreachable') // fail closed
    }
    if (!answer || answer.result !== 'allow') throw refusal(RC.notAuthorized, 'not authorized')
    const grant = this.grantFrom(answer, cs.clientId)
    if (grant === null) throw refusal(RC.notAuthorized, 'unusable answer')
    const org = (answer.client_attrs && answer.client_attrs.org) || username.slice(username.indexOf('@') + 1)
    const key = `${org}/${cs.clientId}`
    const holder = await this.clientIds.holder(key)
    if (holder !== null && holder !== username) {
      this.refused(client, username, 'client id held by another user of the org', 'client_identifier_in_use')
      throw refusal(RC.identifierRejected, 'client id in use')
    }
    Object.assign(cs, grant, { username, org, key, secret, tokenId: tokenIdOf(secret), claim: randomUUID() })
    // A will outside the grant is dropped now, as it would be refused when it fires.
    const will = client._will
    if (will && !cs.acl.decide('publish', will.topic, will.qos, will.retain).allowed) {
      this.denied(client, 'publish', will.topic)
      client._will = null
    }
    await this.clientIds.claim(key, username, cs.claim)
    client.id = `${username}/${cs.clientId}`
    client.conn.once('close', () => this.clientIds.release(key, cs.claim))
  }

  // {acl, expireAtMs} from an allow answer, or null (logged) when it cannot be enforced.
  grantFrom (answer, clientId) {
    let acl
    try {
      acl = new Acl(answer.acl === undefined ? [] : answer.acl)
    } catch (error) {
      if (!(error instanceof InvalidAcl)) throw error
      this.log.error(`refusing ${JSON.stringify(clientId)}: unusable ACL from the dashboard (${error.message})`)
      return null
    }
    let expireAtMs = null
    if (answer.expire_at !== undefined && answer.expire_at !== null) {
      expireAtMs = Number(answer.expire_at) * 1000
      if (!Number.isFinite(expireAtMs) || expireAtMs <= Date.now()) return null // in the past: as EMQX
    }
    return { acl, expireAtMs }
  }

  connected (client) {
    const cs = client.cs
    if (!cs || !cs.acl) return
    cs.connectedAtMs = Date.now()
    let set = this.byUsername.get(cs.username)
    if (!set) this.byUsername.set(cs.username, (set = new Set()))
    set.add(client)
    this.scheduleExpiry(client)
    const options = { keepalive: cs.keepalive, clean_start: cs.cleanStart }
    if (cs.expiryInterval !== null) options.expiry_interval = cs.expiryInterval
    this.emit(this.event('client.connected', client, options))
    // A persistent session's subscriptions were restored before this event: report them now.
    for (const [topic, sub] of Object.entries(client.subscriptions || {})) this.subscribed(client, topic, sub.qos)
  }

  // What the client listens to, as EMQX reports it (session.subscribed / unsubscribed); the
  // ones restored with a persistent session are reported by connected() above.
  subscribed (client, topic, qos) {
    if (client.cs && client.cs.connectedAtMs) this.emit(this.event('session.subscribed', client, { topic, qos }))
  }

  unsubscribed (client, topic) {
    if (client.cs && client.cs.connectedAtMs) this.emit(this.event('session.unsubscribed', client, { topic }))
  }

  disconnected (client) {
    const cs = client.cs
    if (!cs || !cs.acl) return
    clearTimeout(cs.expiryTimer)
    const set = this.byUsername.get(cs.username)
    if (set) {
      set.delete(client)
      if (set.size === 0) this.byUsername.delete(cs.username)
    }
    const reason = cs.kickReason || (client._disconnected ? 'normal' : 'sock_closed')
    this.emit(this.event('client.disconnected', client, { reason, disconnected_at: Date.now() }))
  }

  scheduleExpiry (client) {
    const cs = client.cs
    clearTimeout(cs.expiryTimer)
    if (cs.expireAtMs === null) return
    // Ends at expire_at itself: setTimeout may fire a millisecond early, so check and re-arm.
    const check = () => {
      const left = cs.expireAtMs - Date.now()
      if (left > 0) cs.expiryTimer = setTimeout(check, left)
      else this.kick(client, 'token_expired')
    }
    check()
  }

  // --- Authorization ------------------------------------------------------------------------

  authorizePublish (client, packet, cb) {
    if (client === null) {
      // The will of a client of a node that died (cluster): there is no grant left to
      // consult; it was checked at its CONNECT. It may still only reach its own org.
      const id = packet.clientId || ''
      const org = id.slice(id.indexOf('@') + 1, id.indexOf('/'))
      return cb(org && packet.topic.startsWith(org + '/') ? null : new Error('will outside its org'))
    }
    const acl = client.cs && client.cs.acl
    if (acl && acl.decide('publish', packet.topic, packet.qos, packet.retain).allowed) return cb(null)
    if (acl) this.denied(client, 'publish', packet.topic)
    if (client.closed) return cb(new Error('will denied')) // the will: not published
    this.dropped.add(packet)
    cb(null)
  }

  authorizeSubscribe (client, sub, cb) {
    const acl = client.cs && client.cs.acl
    if (acl && acl.decide('subscribe', sub.topic, sub.qos).allowed) return cb(null, sub)
    if (acl) this.denied(client, 'subscribe', sub.topic)
    cb(null, null) // SUBACK 0x80 for this filter
  }

  authorizeForward (client, packet) {
    // Each delivery, retained and queued ones included, is a subscribe to its topic name: a
    // narrowed ACL takes effect on live subscriptions, and nothing outside the grant arrives.
    const acl = client.cs && client.cs.acl
    return acl && acl.decide('subscribe', packet.topic, packet.qos).allowed ? packet : null
  }

  // --- Events -------------------------------------------------------------------------------

  event (name, client, extra = {}) {
    const cs = client.cs
    return {
      event: name,
      node: this.node,
      clientid: cs.clientId,
      username: cs.username,
      peername: peername(cs.peer),
      proto_ver: cs.protoVer,
      transport: cs.transport,
      connected_at: cs.connectedAtMs,
      timestamp: Date.now(),
      token_id: cs.tokenId,
      ...extra
    }
  }

  denied (client, action, topic) {
    const cs = client.cs
    const now = Date.now()
    if (!cs.denials || now - cs.denials.since >= this.denialWindowMs) {
      cs.denials = { since: now, count: 0, suppressed: cs.denials ? cs.denials.suppressed : 0 }
    }
    if (++cs.denials.count > DENIALS_PER_MINUTE) {
      cs.denials.suppressed++
      return
    }
    const extra = { action, topic, result: 'deny' }
    if (cs.denials.suppressed > 0) {
      extra.suppressed = cs.denials.suppressed
      cs.denials.suppressed = 0
    }
    this.emit(this.event('client.check_authz_complete', client, extra))
  }

  // reasonCode: EMQX's name for the refusal, as the dashboard audits it (mqtt.connect_refused).
  refused (client, username, why, reasonCode = 'client_identifier_not_valid') {
    const cs = client.cs
    this.log.info(`refused CONNECT of ${JSON.stringify(cs.clientId)}: ${why}`)
    this.emit({
      event: 'client.connack',
      node: this.node,
      clientid: shown(cs.clientId),
      username: shown(username),
      peername: peername(cs.peer),
      proto_ver: cs.protoVer,
      transport: cs.transport,
      reason_code: reasonCode,
      timestamp: Date.now()
    })
  }

  emit (event) {
    if (this.outbox.length >= MAX_BUFFERED) {
      this.outbox.shift()
      this.droppedEvents++
    }
    this.outbox.push(event)
  }

  async flush () {
    while (this.outbox.length > 0) {
      const batch = this.outbox.slice(0, MAX_BATCH)
      try {
        await this.dashboard.post('broker/v1/events', batch)
      } catch (error) {
        if (error.status === 422 || error.status === 400) {
          await this.flushOneByOne(batch)
        } else {
          throw new Error(`${error.message}; ${this.outbox.length} events kept for a retry`)
        }
      }
      this.outbox.splice(0, batch.length)
    }
  }

  // A batch the dashboard refuses is sent event by event, so one bad event cannot hold back
  // the others; the bad one is logged and dropped (it would be refused forever).
  async flushOneByOne (batch) {
    for (const event of batch) {
      try {
        await this.dashboard.post('broker/v1/events', [event])
      } catch (error) {
        if (error.status === 422 || error.status === 400) {
          this.log.error(`event dropped, the dashboard refuses it: ${error.message} ${JSON.stringify(event)}`)
        } else {
          throw error
        }
      }
    }
  }

  // --- Revocations --------------------------------------------------------------------------

  async startCursor () {
    // Where the feed stands, known before the first client is let in: a revocation made
    // between that client's CONNECT and a later first poll would otherwise be skipped.
    if (this.cursor === null) this.cursor = (await this.dashboard.get('broker/v1/revocations')).cursor
  }

  async poll () {
    if (this.cursor === null) return this.startCursor()
    const feed = await this.dashboard.get(`broker/v1/revocations?after=${this.cursor}`)
    for (const item of feed.revocations) await this.act(item)
    this.cursor = feed.cursor
    return feed.revocations.length
  }

  async act (item) {
    const clients = this.byUsername.get(item.username)
    if (!clients) return
    for (const client of [...clients]) {
      const cs = client.cs
      if (item.client_id && item.client_id !== cs.clientId) continue
      if (item.kind === 'disconnect') {
        if (!item.token_id || item.token_id === cs.tokenId) this.kick(client, item.reason)
      } else if (item.kind === 'refresh') {
        await this.refresh(client)
      }
    }
  }

  async refresh (client) {
    const cs = client.cs
    let answer
    try {
      answer = await this.dashboard.post('broker/v1/authn', {
        username: cs.username,
        password: cs.secret,
        clientid: cs.clientId,
        peerhost: cs.peer.ip,
        transport: cs.transport,
        proto_ver: cs.protoVer,
        reauth: true
      })
    } catch (error) {
      this.log.warning(`ACL refresh of ${JSON.stringify(cs.clientId)} postponed: ${error.message}`)
      return // the current grant stays until the next refresh or its expiry
    }
    const grant = answer && answer.result === 'allow' ? this.grantFrom(answer, cs.clientId) : null
    if (grant === null) return this.kick(client, 'refused_on_refresh')
    Object.assign(cs, grant)
    this.scheduleExpiry(client)
  }

  kick (client, reason) {
    if (client.closed) return
    this.log.info(`disconnecting ${JSON.stringify(client.cs.clientId)} of ${client.cs.username} (${reason})`)
    client.cs.kickReason = reason
    if (!WILL_ON_KICK.has(reason)) client._disconnected = true // aedes then drops the will
    client.close()
  }

  // --- Loops --------------------------------------------------------------------------------

  start () {
    // [MQTT-3.3.1-1]: a QoS 1/2 PUBLISH sent again after a reconnect (it has the packet id
    // it was first sent with) carries DUP; aedes re-sends it without. Needs the persistence,
    // which aedes sets up in listen().
    const persistence = this.broker.persistence
    const outgoingStream = persistence.outgoingStream.bind(persistence)
    persistence.outgoingStream = (client) =>
      outgoingStream(client).map((packet) => (packet.messageId ? { ...packet, dup: true } : packet))

    // Each loop backs off while the dashboard is down, logging the first failure, every
    // twentieth after it and the recovery, so an outage does not flood the console.
    const loop = (name, fn, ms) => {
      let failures = 0
      const run = async () => {
        if (this.stopped) return
        let again = ms
        try {
          const more = await fn()
          if (failures > 0) this.log.info(`${name}: the dashboard answers again`)
          failures = 0
          if (more >= 1000) again = 0 // a full page of revocations: the rest at once
        } catch (error) {
          failures++
          again = Math.min(5000, ms * 2 ** failures)
          if (failures % 20 === 1) this.log.warning(`${name}: ${error.message} (failure ${failures}, retrying)`)
        }
        this.timers.push(setTimeout(run, again))
        if (this.timers.length > 4) this.timers.shift()
      }
      run()
    }
    loop('revocation feed', () => this.poll(), this.pollMs)
    loop('events', () => this.flush(), this.flushMs)
  }

  async stop () {
    this.stopped = true
    for (const timer of this.timers) clearTimeout(timer)
    await this.flush().catch((error) => this.log.warning(`events not delivered at exit: ${error.message}`))
  }
}
