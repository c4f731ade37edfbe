// The cluster's persistence: aedes-persistence-redis, with its streams as Node Readables.
//
// aedes 1.2 pipes what createRetainedStreamCombi and outgoingStream return (as aedes'
// own in-memory persistence answers); aedes-persistence-redis 12 returns async generators.
// Readable.from turns one into the other without reading ahead.
import { Readable } from 'node:stream'
import RedisPersistence from 'aedes-persistence-redis/asyncPersistence.js'

export class ClusterPersistence extends RedisPersistence {
  createRetainedStreamCombi (patterns) {
    return Readable.from(super.createRetainedStreamCombi(patterns))
  }

  createRetainedStream (pattern) {
    return Readable.from(super.createRetainedStream(pattern))
  }

  outgoingStream (client) {
    return Readable.from(super.outgoingStream(client))
  }

  streamWill (brokers) {
    return Readable.from(super.streamWill(brokers))
  }
}
