/** The SQLite schema, one migration per key (`NNNN_name`), run by `@effect/sql`'s Migrator. */
import * as SqlClient from "@effect/sql/SqlClient"
import * as Effect from "effect/Effect"

export const migrations: Record<string, Effect.Effect<void, unknown, SqlClient.SqlClient>> = {
  "0001_create_event_log": Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`CREATE TABLE IF NOT EXISTS dabgent_streams (
      stream_id TEXT PRIMARY KEY,
      head INTEGER NOT NULL
    ) WITHOUT ROWID`
    yield* sql`CREATE TABLE IF NOT EXISTS dabgent_events (
      stream_id TEXT NOT NULL,
      sequence INTEGER NOT NULL,
      aggregate_id TEXT NOT NULL,
      version INTEGER NOT NULL,
      type TEXT NOT NULL,
      data TEXT NOT NULL,
      metadata TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (stream_id, sequence)
    )`
    yield* sql`CREATE UNIQUE INDEX IF NOT EXISTS dabgent_events_aggregate_version
      ON dabgent_events (stream_id, aggregate_id, version)`
  })
}
