/**
 * The embedded event store: one SQLite file (WAL), safe for several processes.
 *
 * Appends run as one synchronous `BEGIN IMMEDIATE` transaction on a dedicated connection:
 * the write lock is taken first, so SQLite's busy timeout applies across processes and no
 * other fiber can interleave inside the transaction. Reads, the head poll and migrations go
 * through `@effect/sql`.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type { SqlError } from "@effect/sql/SqlError"
import type * as Statement from "@effect/sql/Statement"
import type * as ConfigError from "effect/ConfigError"
import * as Migrator from "@effect/sql/Migrator"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import Database from "better-sqlite3"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import { mkdirSync } from "node:fs"
import { dirname } from "node:path"
import { EventStore } from "./EventStore.js"
import { ConcurrencyError, StoreError } from "./EventStoreError.js"
import { make as makeStore, type Page, type PageRequest } from "./internal/makeStore.js"
import { encodeJson, toPage, type EventRow } from "./internal/rows.js"
import { migrations } from "./internal/sqliteMigrations.js"
import * as StreamHeads from "./internal/StreamHeads.js"
import type { AppendRequest, AppendResult } from "./StoredEvent.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface SqliteEventStoreOptions {
  /** Path of the database file; its folder is created. `:memory:` is not shared between connections. */
  readonly filename: string
  /** How long an append waits for another process's write lock. Default 5 seconds. */
  readonly busyTimeout?: Duration.DurationInput
  /**
   * How often a waiting subscriber checks the file for appends made by other processes.
   * Appends made in this process wake subscribers at once. Default 50 ms.
   */
  readonly pollInterval?: Duration.DurationInput
}

const isBusy = (error: unknown): boolean => {
  const code = typeof error === "object" && error !== null && "code" in error ? String(error.code) : ""
  const cause =
    typeof error === "object" && error !== null && "cause" in error && typeof error.cause === "object"
      ? error.cause
      : null
  return (
    code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED") || (cause !== null && isBusy(cause))
  )
}

const retryBusy = Schedule.intersect(
  Schedule.jittered(Schedule.exponential("2 millis", 1.5)),
  Schedule.recurs(50)
)

const storeError = (operation: string) => (cause: unknown) =>
  new StoreError({ operation, reason: cause instanceof Error ? cause.message : String(cause), cause })

class VersionMismatch {
  constructor(readonly actual: number) {}
}

/**
 * Opens the store: runs migrations, opens the append connection, and closes it with the scope.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (
  options: SqliteEventStoreOptions
): Effect.Effect<EventStore["Type"], StoreError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const busyMillis = Duration.toMillis(options.busyTimeout ?? Duration.seconds(5))
    yield* Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "dabgent_migrations" }).pipe(
      Effect.retry({ while: isBusy, schedule: retryBusy }),
      Effect.mapError(storeError("migrate"))
    )

    const db = yield* Effect.acquireRelease(
      Effect.try({
        try: () => {
          const connection = new Database(options.filename, { timeout: busyMillis })
          connection.pragma("journal_mode = WAL")
          connection.pragma("synchronous = NORMAL")
          return connection
        },
        catch: storeError("open")
      }),
      (connection) => Effect.sync(() => connection.close())
    )
    const bumpHead = db.prepare<[string, number], { head: number }>(
      `INSERT INTO dabgent_streams (stream_id, head) VALUES (?, ?)
       ON CONFLICT (stream_id) DO UPDATE SET head = head + excluded.head RETURNING head`
    )
    const currentVersion = db.prepare<[string, string], { version: number }>(
      `SELECT coalesce(max(version), 0) AS version FROM dabgent_events WHERE stream_id = ? AND aggregate_id = ?`
    )
    const insert = db.prepare<[string, number, string, number, string, string, string, number]>(
      `INSERT INTO dabgent_events (stream_id, sequence, aggregate_id, version, type, data, metadata, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`
    )
    const writeAppend = db.transaction(
      (
        request: AppendRequest,
        encoded: ReadonlyArray<string>,
        metadata: string,
        now: number
      ): AppendResult => {
        // The head row is written first: it takes the write lock and orders this append in the stream.
        const row = bumpHead.get(request.streamId, request.events.length)
        if (row === undefined) throw new Error("the stream head row was not returned")
        const lastSequence = row.head
        const firstSequence = lastSequence - request.events.length + 1
        const actual = currentVersion.get(request.streamId, request.aggregateId)?.version ?? 0
        const expected = request.expectedVersion ?? "any"
        if (expected !== "any" && expected !== actual) throw new VersionMismatch(actual)
        request.events.forEach((event, index) => {
          insert.run(
            request.streamId,
            firstSequence + index,
            request.aggregateId,
            actual + index + 1,
            event.type,
            encoded[index] ?? "null",
            metadata,
            now
          )
        })
        return { firstSequence, lastSequence, version: actual + request.events.length }
      }
    )

    const append = (request: AppendRequest): Effect.Effect<AppendResult, ConcurrencyError | StoreError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        Effect.try({
          try: () => {
            const encoded = request.events.map((event) => encodeJson(event.data))
            return writeAppend.immediate(request, encoded, encodeJson(request.metadata ?? {}), now)
          },
          catch: (error) =>
            error instanceof VersionMismatch
              ? new ConcurrencyError({
                  streamId: request.streamId,
                  aggregateId: request.aggregateId,
                  expected: typeof request.expectedVersion === "number" ? request.expectedVersion : 0,
                  actual: error.actual
                })
              : storeError("append")(error)
        }).pipe(
          Effect.retry({
            while: (error) => error._tag === "StoreError" && isBusy(error.cause),
            schedule: retryBusy
          })
        )
      )

    const readPage = ({ query, after, upTo, limit }: PageRequest): Effect.Effect<Page, StoreError> => {
      const filters: Array<Statement.Fragment> = [
        sql`stream_id = ${query.streamId}`,
        sql`sequence > ${after}`,
        sql`sequence <= ${upTo}`
      ]
      if (query.aggregateId !== undefined) filters.push(sql`aggregate_id = ${query.aggregateId}`)
      if (query.aggregatePrefix !== undefined) {
        filters.push(sql`substr(aggregate_id, 1, ${query.aggregatePrefix.length}) = ${query.aggregatePrefix}`)
      }
      if (query.types !== undefined) filters.push(sql.in("type", query.types))
      return sql<EventRow>`SELECT stream_id, sequence, aggregate_id, version, type, data, metadata, created_at
        FROM dabgent_events WHERE ${sql.and(filters)} ORDER BY sequence LIMIT ${limit}`.pipe(
        Effect.mapError(storeError("read")),
        Effect.map((rows) => toPage(rows, "text"))
      )
    }

    const head = (streamId: string): Effect.Effect<number, StoreError> =>
      sql<{ head: number }>`SELECT head FROM dabgent_streams WHERE stream_id = ${streamId}`.pipe(
        Effect.map((rows) => rows[0]?.head ?? 0),
        Effect.mapError((error: SqlError) => storeError("head")(error))
      )

    return makeStore({
      append,
      readPage,
      head,
      heads: StreamHeads.make(),
      pollInterval: Option.some(options.pollInterval ?? Duration.millis(50)),
      pageSize: 1000
    })
  })

const ensureFolder = (filename: string) =>
  Effect.try({
    try: () => {
      if (filename !== ":memory:" && !filename.startsWith("file:"))
        mkdirSync(dirname(filename), { recursive: true })
    },
    catch: storeError("open")
  })

/**
 * The store on a SQLite file, with its own `@effect/sql` client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: SqliteEventStoreOptions): Layer.Layer<EventStore, StoreError> =>
  Layer.scoped(EventStore, make(options)).pipe(
    Layer.provide(SqliteClient.layer({ filename: options.filename })),
    Layer.provide(Layer.effectDiscard(ensureFolder(options.filename))),
    Layer.mapError((error) => (error._tag === "StoreError" ? error : storeError("open")(error)))
  )

/**
 * The store from `Config`: `DABGENT_SQLITE_FILE` (default `.dabgent/events.db`).
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<SqliteEventStoreOptions> = Config.map(
    Config.withDefault(Config.string("DABGENT_SQLITE_FILE"), ".dabgent/events.db"),
    (filename) => ({ filename })
  )
): Layer.Layer<EventStore, StoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(config, layer))
