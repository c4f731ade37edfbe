// The default MQTT broker of CloudSignal: aedes, enforcing the dashboard's broker contract.
//
// Started by `manage.py runbroker`, which passes its configuration in the environment:
//   DASHBOARD_URL, BROKER_HOOK_SECRET        the hook API and its bearer secret
//   MQTT_BIND, MQTTS_BIND, WSS_BIND          host:port of each listener, or "off"
//   MQTT_CERTFILE, MQTT_KEYFILE              the TLS certificate of mqtts and wss
//   MQTT_NODE                                this node's name in events and Sessions
//   BROKER_REDIS_URL                         a cluster: nodes share subscriptions, retained
//                                            messages, sessions and routing through Redis
// One node keeps everything in memory (make run needs no service).
import os from 'node:os'
import { Aedes } from 'aedes'
import { ClientIds } from './clientids.js'
import { Dashboard } from './dashboard.js'
import { Enforcer } from './enforcer.js'
import { listen } from './listeners.js'
import { logger } from './log.js'

async function clusterParts (url, log) {
  const { default: Redis } = await import('ioredis')
  const { default: mqemitterRedis } = await import('mqemitter-redis')
  const { ClusterPersistence } = await import('./persistence.js')
  const onError = (what) => (error) => log.warning(`${what}: ${error.message}`)
  const redis = new Redis(url, { lazyConnect: false, maxRetriesPerRequest: 2 })
  redis.on('error', onError('redis'))
  const mq = mqemitterRedis({ connectionString: url })
  mq.on('error', onError('redis emitter'))
  const persistence = new ClusterPersistence({ conn: new Redis(url) })
  return { redis, mq, persistence }
}

// For bench/broker_throughput.py only: aedes as it comes, every client and message allowed,
// to measure what the enforcement costs. Refused unless every listener is on loopback.
function benchWithoutHooks (env) {
  if (env.BROKER_BENCH_NO_HOOKS !== '1') return false
  const binds = [env.MQTT_BIND, env.MQTTS_BIND, env.WSS_BIND].filter((b) => b && b !== 'off')
  if (!binds.every((b) => b.startsWith('127.0.0.1:'))) throw new Error('BROKER_BENCH_NO_HOOKS needs loopback listeners only')
  return true
}

export async function start (env = process.env) {
  const log = logger(env.LOG_LEVEL)
  const node = env.MQTT_NODE || `aedes@${os.hostname()}`
  const open = benchWithoutHooks(env)
  const cluster = env.BROKER_REDIS_URL ? await clusterParts(env.BROKER_REDIS_URL, log) : null
  const broker = new Aedes({
    id: node,
    mq: cluster ? cluster.mq : undefined,
    persistence: cluster ? cluster.persistence : undefined,
    heartbeatInterval: 5000
  })
  const dashboard = new Dashboard({ url: env.DASHBOARD_URL || 'http://127.0.0.1:8000', secret: env.BROKER_HOOK_SECRET || '' })
  const enforcer = open
    ? null
    : new Enforcer({
      broker,
      dashboard,
      clientIds: new ClientIds(cluster ? cluster.redis : null),
      node,
      log,
      pollMs: Number(env.BROKER_POLL_MS || 250),
      denialWindowMs: Number(env.BROKER_DENIAL_WINDOW_MS || 60_000)
    })
  await broker.listen()
  if (enforcer) {
    try {
      await enforcer.startCursor()
    } catch (error) {
      log.warning(`dashboard unreachable at start (${error.message}): refusing clients until it answers`)
    }
    enforcer.start()
  } else {
    log.warning('BENCHMARK MODE: no authentication, no ACL, no events')
  }
  const listeners = await listen(broker, {
    mqtt: env.MQTT_BIND ?? '127.0.0.1:1883',
    mqtts: env.MQTTS_BIND ?? '0.0.0.0:8883',
    wss: env.WSS_BIND ?? '0.0.0.0:18885',
    certfile: env.MQTT_CERTFILE,
    keyfile: env.MQTT_KEYFILE,
    log
  })
  const where = listeners.map((l) => `${l.name} ${l.bind.host}:${l.bind.port}`).join(', ')
  log.info(`MQTT broker ${node} (aedes ${broker.version}${cluster ? ', cluster on Redis' : ', one node in memory'}): ${where}; dashboard ${dashboard.base.href}`)

  let stopping = null
  const stop = () => {
    if (stopping) return stopping
    stopping = (async () => {
      for (const { server } of listeners) server.close()
      await new Promise((resolve) => broker.close(resolve)) // closes clients: their events are queued
      if (enforcer) await enforcer.stop()
      dashboard.close()
      if (cluster) cluster.redis.disconnect()
    })()
    return stopping
  }
  return { broker, enforcer, listeners, stop }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const running = await start()
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.on(signal, () => running.stop().then(() => process.exit(0)))
  }
}
