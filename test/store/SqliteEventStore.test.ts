import * as SqlClient from "@effect/sql/SqlClient"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { EventStore } from "../../src/store/index.js"
import * as SqliteEventStore from "../../src/store/SqliteEventStore.js"
import { conformance } from "./conformance.js"

const filename = join(mkdtempSync(join(tmpdir(), "dabgent-sqlite-")), "events.db")

conformance({
  backend: "sqlite",
  layer: SqliteEventStore.layer({ filename }),
  connect: Effect.map(Layer.build(SqliteEventStore.layer({ filename })), Context.get(EventStore)),
  connections: "separate connections",
  corrupt: (streamId, sequence) =>
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`UPDATE dabgent_events SET data = '{"truncated": ' WHERE stream_id = ${streamId} AND sequence = ${sequence}`
    }).pipe(Effect.provide(SqliteClient.layer({ filename })))
})
