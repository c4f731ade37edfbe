// A real MQTT.js client for the broker tests (tests/e2e): connects as told by the JSON
// argument, subscribes, publishes, waits, and prints what happened as JSON lines.
//   {"url", "username", "password", "clientId", "ca"?, "protocolVersion"?, "clean"?,
//    "subscribe"?: [topic], "publish"?: [{topic, payload, qos, retain}], "waitMs"?}
import fs from 'node:fs'
import mqtt from 'mqtt'

const o = JSON.parse(process.argv[2])
const say = (event) => process.stdout.write(JSON.stringify(event) + '\n')
const client = mqtt.connect(o.url, {
  username: o.username,
  password: o.password,
  clientId: o.clientId,
  protocolVersion: o.protocolVersion || 4,
  clean: o.clean !== false,
  reconnectPeriod: 0,
  connectTimeout: 5000,
  ca: o.ca ? fs.readFileSync(o.ca) : undefined,
  rejectUnauthorized: true
})
const finish = () => client.end(true, () => process.exit(0))
client.on('connect', async () => {
  say({ event: 'connect' })
  for (const topic of o.subscribe || []) {
    try {
      const granted = await client.subscribeAsync(topic, { qos: 1 })
      say({ event: 'suback', topic, granted: granted.map((g) => g.qos) })
    } catch (error) {
      // MQTT.js rejects a SUBACK of 0x80 with "Subscribe error: ..."
      say({ event: 'suback', topic, granted: [/^Subscribe error/.test(error.message) ? 128 : error.message] })
    }
  }
  for (const p of o.publish || []) {
    await client.publishAsync(p.topic, p.payload, { qos: p.qos ?? 1, retain: !!p.retain })
    say({ event: 'published', topic: p.topic })
  }
  setTimeout(finish, o.waitMs ?? 1000)
})
client.on('message', (topic, payload, packet) => say({ event: 'message', topic, payload: payload.toString(), retain: packet.retain }))
client.on('error', (error) => { say({ event: 'error', message: error.message }); finish() })
client.on('close', () => say({ event: 'close' }))
setTimeout(finish, (o.waitMs ?? 1000) + 8000)
