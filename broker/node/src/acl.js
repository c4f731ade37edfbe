// The broker's evaluator of the `acl` an authn answer carries (EMQX 5.8's client ACL shape):
// [{permission: allow|deny, action: publish|subscribe|all, topic, qos?: [0..2], retain?: bool}].
//
// The semantics are EMQX 5.8's authorization rules (emqx_authz_rule + emqx_topic:match on
// words), which acls/policy.py implements too; tests/test_acl_differential.py proves the two
// decide alike:
// - the first rule whose action applies and whose topic matches decides; none: deny;
// - PUBLISH: the topic name is matched against the rule's filter;
// - SUBSCRIBE: the subscription's filter is matched against the rule's filter as if it were a
//   name whose '+' and '#' levels are plain words: a rule '+' matches any one of its levels
//   ('+' and '#' included), a rule '#' the rest, a literal only the same word;
// - no special case for '$' topics (EMQX matches words there); a topic "eq T" matches only T
//   itself, character for character.
// A delivery is checked as a SUBSCRIBE to the message's topic name.
//
// Compiled once per connection into one level trie per action, so a check walks the topic's
// levels instead of the rule list; each node knows the smallest rule index below it, so the
// walk stops as soon as no earlier rule can be found.

const NEVER = Number.MAX_SAFE_INTEGER
// Decisions remembered per connection and action: a device publishes to a handful of topics
// and receives on a handful, so most checks are one map lookup. Small, so 100,000
// connections cost little memory; cleared when full (a subscriber to a busy wildcard simply
// decides afresh).
const CACHE_SIZE = 32
const ACTIONS = ['publish', 'subscribe']
const MAX_TOPIC_BYTES = 65535

class Node {
  constructor () {
    this.lit = new Map()
    this.plus = null
    this.end = NEVER // first rule whose filter ends here
    this.hash = NEVER // first rule whose filter ends with '#' here
    this.low = NEVER // first rule anywhere below (for pruning)
  }
}

class Trie {
  constructor () {
    this.root = new Node()
  }

  add (levels, index) {
    let node = this.root
    if (index < node.low) node.low = index
    for (const level of levels) {
      if (level === '#') {
        if (index < node.hash) node.hash = index
        return
      }
      if (level === '+') {
        if (node.plus === null) node.plus = new Node()
        node = node.plus
      } else {
        let child = node.lit.get(level)
        if (child === undefined) {
          child = new Node()
          node.lit.set(level, child)
        }
        node = child
      }
      if (index < node.low) node.low = index
    }
    if (index < node.end) node.end = index
  }

  // The smallest index of a rule matching `levels` (a name, or a filter read as words).
  firstMatch (levels) {
    let best = NEVER
    const n = levels.length
    const stack = [this.root, 0]
    while (stack.length > 0) {
      const i = stack.pop()
      const node = stack.pop()
      if (node.low >= best) continue
      if (node.hash < best) best = node.hash
      if (i === n) {
        if (node.end < best) best = node.end
        continue
      }
      const child = node.lit.get(levels[i])
      if (child !== undefined && child.low < best) stack.push(child, i + 1)
      if (node.plus !== null && node.plus.low < best) stack.push(node.plus, i + 1)
    }
    return best
  }
}

class InvalidAcl extends Error {}

function validFilter (topic, isName) {
  if (typeof topic !== 'string' || topic.length === 0) return false
  if (topic.indexOf('\u0000') !== -1) return false
  if (topic.length > MAX_TOPIC_BYTES / 3 && Buffer.byteLength(topic, 'utf8') > MAX_TOPIC_BYTES) return false
  const levels = topic.split('/')
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]
    if (isName) {
      if (level.indexOf('+') !== -1 || level.indexOf('#') !== -1) return false
      continue
    }
    if (level.indexOf('#') !== -1 && (level !== '#' || i !== levels.length - 1)) return false
    if (level.indexOf('+') !== -1 && level !== '+') return false
  }
  return true
}

function checkRule (rule, index) {
  if (rule === null || typeof rule !== 'object') throw new InvalidAcl(`rule ${index} is not an object`)
  if (rule.permission !== 'allow' && rule.permission !== 'deny') {
    throw new InvalidAcl(`rule ${index}: permission must be allow or deny`)
  }
  if (rule.action !== 'publish' && rule.action !== 'subscribe' && rule.action !== 'all') {
    throw new InvalidAcl(`rule ${index}: action must be publish, subscribe or all`)
  }
  if (typeof rule.topic !== 'string') throw new InvalidAcl(`rule ${index}: topic must be text`)
  const eq = rule.topic.startsWith('eq ')
  const topic = eq ? rule.topic.slice(3) : rule.topic
  if (!validFilter(topic, false)) throw new InvalidAcl(`rule ${index}: ${JSON.stringify(rule.topic)} is not a topic filter`)
  if (rule.qos !== undefined) {
    if (!Array.isArray(rule.qos) || rule.qos.some(q => q !== 0 && q !== 1 && q !== 2)) {
      throw new InvalidAcl(`rule ${index}: qos must be a list of 0, 1 and 2`)
    }
  }
  if (rule.retain !== undefined && typeof rule.retain !== 'boolean' && rule.retain !== 'all') {
    throw new InvalidAcl(`rule ${index}: retain must be true, false or "all"`)
  }
  return { permission: rule.permission, action: rule.action, topic, eq, qos: rule.qos, retain: rule.retain }
}

function wordsMatch (name, filter) {
  // emqx_topic:match/2 on words, for the rare rules the tries do not take (qos/retain conditions).
  for (let i = 0; i < filter.length; i++) {
    if (filter[i] === '#') return true
    if (i >= name.length) return false
    if (filter[i] !== '+' && filter[i] !== name[i]) return false
  }
  return name.length === filter.length
}

class Acl {
  // Throws InvalidAcl naming the first bad rule: one invalid rule fails the login, as in EMQX.
  constructor (rules) {
    if (!Array.isArray(rules)) throw new InvalidAcl('acl must be a list of rules')
    this.rules = rules.map(checkRule)
    // Rules with qos or retain conditions are decided by a plain loop: a trie's pruning assumes
    // that a matching filter decides, which a condition may veto.
    this.conditional = this.rules.some(r => r.qos !== undefined || (r.retain !== undefined && r.retain !== 'all'))
    this.tries = { publish: new Trie(), subscribe: new Trie() }
    this.eq = { publish: new Map(), subscribe: new Map() }
    this.decisions = this.rules.map((rule, index) => Object.freeze({ allowed: rule.permission === 'allow', index }))
    this.cache = { publish: new Map(), subscribe: new Map() }
    this.rules.forEach((rule, index) => {
      for (const action of ACTIONS) {
        if (rule.action !== action && rule.action !== 'all') continue
        if (rule.eq) {
          if (!this.eq[action].has(rule.topic)) this.eq[action].set(rule.topic, index)
        } else {
          this.tries[action].add(rule.topic.split('/'), index)
        }
      }
    })
  }

  // {allowed, index}: index is the deciding rule, -1 for the default deny or an invalid topic.
  decide (action, topic, qos = 0, retain = false) {
    if (action !== 'publish' && action !== 'subscribe') throw new Error(`unknown action ${action}`)
    if (this.conditional) {
      if (!validFilter(topic, action === 'publish')) return DENIED
      const index = this._loop(action, topic, qos, retain)
      return index === NEVER ? DENIED : this.decisions[index]
    }
    const cache = this.cache[action]
    let decision = cache.get(topic)
    if (decision === undefined) {
      if (!validFilter(topic, action === 'publish')) return DENIED
      const index = this._indexed(action, topic)
      decision = index === NEVER ? DENIED : this.decisions[index]
      if (cache.size >= CACHE_SIZE) cache.clear()
      cache.set(topic, decision)
    }
    return decision
  }

  _indexed (action, topic) {
    let best = this.tries[action].firstMatch(topic.split('/'))
    const eq = this.eq[action].get(topic)
    if (eq !== undefined && eq < best) best = eq
    return best
  }

  _loop (action, topic, qos, retain) {
    const words = topic.split('/')
    for (let i = 0; i < this.rules.length; i++) {
      const r = this.rules[i]
      if (r.action !== action && r.action !== 'all') continue
      if (r.qos !== undefined && !r.qos.includes(qos)) continue
      if (action === 'publish' && r.retain !== undefined && r.retain !== 'all' && r.retain !== retain) continue
      if (r.eq ? r.topic === topic : wordsMatch(words, r.topic.split('/'))) return i
    }
    return NEVER
  }
}

const DENIED = Object.freeze({ allowed: false, index: -1 })

export { Acl, InvalidAcl, validFilter }
