/**
 * A separate OS process that appends to one Postgres stream, for the multi-process tests.
 * argv: <url> <streamId> <aggregateId> <count>. Prints "done <count>" when finished.
 */
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import { EventStore } from "../../src/store/index.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"

const [url, streamId, aggregateId, count] = process.argv.slice(2)
if (url === undefined || streamId === undefined || aggregateId === undefined || count === undefined) {
  console.error("usage: pgAppender <url> <streamId> <aggregateId> <count>")
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
  program.pipe(Effect.provide(PgEventStore.layer({ url: Redacted.make(url), maxConnections: 2 })))
).catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
