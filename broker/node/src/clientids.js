// Who holds a client id in an org, across the nodes of a cluster.
//
// Client ids are per org: the broker keys its sessions by username and client id (see
// enforcer.js), so org B's "sensor-1" never meets org A's. Within one org a client id held
// by another username is refused; this registry answers "who holds it?". On one node it is
// a map; in a cluster each claim is also a Redis key with a TTL the holding node renews, so
// a node that dies releases its claims within CLAIM_TTL_MS.

const CLAIM_TTL_MS = 90_000
const RENEW_MS = 30_000
const PREFIX = 'cloudsignal:broker:clientid:'

// Delete the key only if it still holds our claim: a takeover on another node may have
// replaced it.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

export class ClientIds {
  constructor (redis = null) {
    this.redis = redis
    this.local = new Map() // key -> {username, claim}
    this.timer = null
    if (redis) {
      redis.defineCommand('csRelease', { numberOfKeys: 1, lua: RELEASE })
      this.timer = setInterval(() => this.renew().catch(() => {}), RENEW_MS)
      this.timer.unref()
    }
  }

  // The username holding `key` (org/clientid), or null.
  async holder (key) {
    const here = this.local.get(key)
    if (here) return here.username
    if (!this.redis) return null
    const value = await this.redis.get(PREFIX + key)
    return value === null ? null : value.slice(0, value.indexOf('\n'))
  }

  async claim (key, username, claim) {
    this.local.set(key, { username, claim })
    if (this.redis) await this.redis.set(PREFIX + key, `${username}\n${claim}`, 'PX', CLAIM_TTL_MS)
  }

  release (key, claim) {
    const here = this.local.get(key)
    if (here && here.claim === claim) this.local.delete(key)
    if (this.redis && here && here.claim === claim) {
      this.redis.csRelease(PREFIX + key, `${here.username}\n${claim}`).catch(() => {})
    }
  }

  async renew () {
    if (!this.redis || this.local.size === 0) return
    const pipeline = this.redis.pipeline()
    for (const [key, { username, claim }] of this.local) {
      pipeline.set(PREFIX + key, `${username}\n${claim}`, 'PX', CLAIM_TTL_MS)
    }
    await pipeline.exec()
  }

  close () {
    if (this.timer) clearInterval(this.timer)
  }
}
