/**
 * A separate OS process that appends to one stream, for the multi-process tests.
 * argv: <store> <streamId> <aggregateId> <count>, where <store> is a postgres:// URL or a SQLite
 * file. Each append carries a 1 KB payload and the version it expects. Prints "done <count>".
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { EventStore } from "../../src/store/index.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"

const [location, streamId, aggregateId, count] = process.argv.slice(2)
if (location === undefined || streamId === undefined || aggregateId === undefined || count === undefined) {
  console.error("usage: appender <postgres-url|sqlite-file> <streamId> <aggregateId> <count>")
  process.exit(2)
}
const total = Number(count)

const storeLayer = /^postgres(ql)?:\/\//.test(location)
  ? PgEventStore.layer({ url: Redacted.make(location), maxConnections: 2 })
  : SqliteEventStore.layer({ filename: location, busyTimeout: "30 seconds" })

const program = Effect.gen(function* () {
  const store = yield* EventStore
  for (let n = 1; n <= total; n++) {
    yield* store.append({
      streamId,
      aggregateId,
      events: [{ type: "test.Happened", data: { n, pad: "x".repeat(1024) } }],
      expectedVersion: n - 1
    })
  }
  console.log(`done ${total}`)
})

Effect.runPromise(program.pipe(Effect.provide(storeLayer))).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
