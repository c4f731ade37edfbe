// Load for bench/broker_throughput.py: MQTT.js publishers and subscribers on one broker,
// counting the messages delivered per second. Argument (JSON):
//   {port, username, password, publishers, subscribers, prefix, seconds, warmup, payloadBytes, window}
// Prints {"delivered_per_s", "published_per_s"} as its last line.
import mqtt from 'mqtt'

const o = JSON.parse(process.argv[2])
const connect = (id) => new Promise((resolve, reject) => {
  const client = mqtt.connect(`mqtt://127.0.0.1:${o.port}`, {
    username: o.username, password: o.password, clientId: id, reconnectPeriod: 0, protocolVersion: 4
  })
  client.once('connect', () => resolve(client))
  client.once('error', reject)
})

let delivered = 0
let published = 0
let running = true
const payload = Buffer.alloc(o.payloadBytes ?? 64, 'x')
const subscribers = []
for (let i = 0; i < o.subscribers; i++) {
  const client = await connect(`load-sub-${i}`)
  await client.subscribeAsync(`${o.prefix}/#`, { qos: 0 })
  client.on('message', () => { delivered++ })
  subscribers.push(client)
}
const publishers = []
for (let i = 0; i < o.publishers; i++) publishers.push(await connect(`load-pub-${i}`))
for (const [i, client] of publishers.entries()) {
  // A window of QoS 0 publishes in flight per publisher: enough to keep the broker busy,
  // bounded so the client's buffers do not grow without end.
  const topic = `${o.prefix}/p${i}/telemetry`
  const next = () => {
    if (!running) return
    published++
    client.publish(topic, payload, { qos: 0 }, next)
  }
  for (let w = 0; w < (o.window ?? 50); w++) next()
}
await new Promise((resolve) => setTimeout(resolve, (o.warmup ?? 1) * 1000))
const d0 = delivered
const p0 = published
const t0 = process.hrtime.bigint()
await new Promise((resolve) => setTimeout(resolve, o.seconds * 1000))
const seconds = Number(process.hrtime.bigint() - t0) / 1e9
const result = { delivered_per_s: (delivered - d0) / seconds, published_per_s: (published - p0) / seconds }
running = false
for (const c of [...publishers, ...subscribers]) c.end(true)
process.stdout.write(JSON.stringify(result) + '\n')
process.exit(0)
