/**
 * A separate OS process that appends to one stream of a SQLite file, for the multi-process tests.
 * argv: <filename> <streamId> <aggregateId> <count>. Prints "done <count>" when finished.
 */
import * as Effect from "effect/Effect"
import { EventStore } from "../../src/store/index.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"

const [filename, streamId, aggregateId, count] = process.argv.slice(2)
if (filename === undefined || streamId === undefined || aggregateId === undefined || count === undefined) {
  console.error("usage: sqliteAppender <filename> <streamId> <aggregateId> <count>")
  process.exit(2)
}
const total = Number(count)

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

Effect.runPromise(
  program.pipe(Effect.provide(SqliteEventStore.layer({ filename, busyTimeout: "30 seconds" })))
).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
