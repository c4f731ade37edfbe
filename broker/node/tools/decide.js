// Decides checks on EMQX-shaped ACLs with the broker's evaluator, for the differential test
// (tests/test_acl_differential.py). Reads lines {"acl": [...], "checks": [[action, topic], ...]}
// on stdin; writes one line per input line: the deciding rule index of each check (-1: an
// invalid topic), comma-separated, with "+" before an allow.
import readline from 'node:readline'
import { Acl } from '../src/acl.js'

const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity })
const out = []
for await (const line of lines) {
  if (!line) continue
  const { acl, checks } = JSON.parse(line)
  const compiled = new Acl(acl)
  out.push(checks.map(([action, topic]) => {
    const d = compiled.decide(action, topic)
    return (d.allowed ? '+' : '') + d.index
  }).join(','))
  if (out.length >= 1000) {
    process.stdout.write(out.join('\n') + '\n')
    out.length = 0
  }
}
if (out.length) process.stdout.write(out.join('\n') + '\n')
