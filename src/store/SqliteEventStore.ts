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
import type * as ConfigError from "effect/ConfigError"
import * as Migrator from "@effect/sql/Migrator"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import Database from "better-sqlite3"
import * as Clock from "effect/Clock"
import * as Config from "effect/Config"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
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
    // The migrations run through @effect/sql; appends and reads use the connection below.
    yield* SqlClient.SqlClient
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
    // The stream's head is its highest sequence, read from the primary key: `BEGIN IMMEDIATE`
    // already serializes writers, so an append writes no head row (one B-tree fewer per append;
    // the `dabgent_streams` table of the first schema is no longer written).
    const streamHead = db.prepare<[string], { head: number }>(
      `SELECT coalesce(max(sequence), 0) AS head FROM dabgent_events WHERE stream_id = ?`
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
        const firstSequence = (streamHead.get(request.streamId)?.head ?? 0) + 1
        const lastSequence = firstSequence + request.events.length - 1
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

    const attempt = (
      request: AppendRequest,
      now: number
    ): Either.Either<AppendResult, ConcurrencyError | StoreError> => {
      try {
        const encoded = request.events.map((event) => encodeJson(event.data))
        return Either.right(writeAppend.immediate(request, encoded, encodeJson(request.metadata ?? {}), now))
      } catch (error) {
        return Either.left(
          error instanceof VersionMismatch
            ? new ConcurrencyError({
                streamId: request.streamId,
                aggregateId: request.aggregateId,
                expected: typeof request.expectedVersion === "number" ? request.expectedVersion : 0,
                actual: error.actual
              })
            : storeError("append")(error)
        )
      }
    }
    const busy = (error: ConcurrencyError | StoreError) => error._tag === "StoreError" && isBusy(error.cause)

    // The first attempt runs synchronously; only an append that found the file locked by another
    // process goes through the retry schedule.
    const append = (request: AppendRequest): Effect.Effect<AppendResult, ConcurrencyError | StoreError> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const first = attempt(request, now)
        if (Either.isRight(first) || !busy(first.left)) return first
        return Effect.suspend(() => attempt(request, now)).pipe(
          Effect.retry({ while: busy, schedule: retryBusy })
        )
      })

    // Reads run on prepared statements of this connection, one per shape of query (which filters
    // are present, how many types): no SQL is built or looked up per page.
    const readStatements = new Map<string, Database.Statement<Array<string | number>, EventRow>>()
    const readStatement = (query: PageRequest["query"]) => {
      const key = `${query.aggregateId === undefined ? 0 : 1}${query.aggregatePrefix === undefined ? 0 : 1}${query.types?.length ?? -1}`
      let statement = readStatements.get(key)
      if (statement === undefined) {
        const filters = ["stream_id = ?", "sequence > ?", "sequence <= ?"]
        if (query.aggregateId !== undefined) filters.push("aggregate_id = ?")
        if (query.aggregatePrefix !== undefined) filters.push("substr(aggregate_id, 1, ?) = ?")
        if (query.types !== undefined)
          filters.push(query.types.length === 0 ? "0" : `type IN (${query.types.map(() => "?").join(", ")})`)
        statement = db.prepare<Array<string | number>, EventRow>(
          `SELECT stream_id, sequence, aggregate_id, version, type, data, metadata, created_at
           FROM dabgent_events WHERE ${filters.join(" AND ")} ORDER BY sequence LIMIT ?`
        )
        readStatements.set(key, statement)
      }
      return statement
    }

    const readPage = ({ query, after, upTo, limit }: PageRequest): Effect.Effect<Page, StoreError> =>
      Effect.try({
        try: () => {
          const params: Array<string | number> = [query.streamId, after, upTo]
          if (query.aggregateId !== undefined) params.push(query.aggregateId)
          if (query.aggregatePrefix !== undefined)
            params.push(query.aggregatePrefix.length, query.aggregatePrefix)
          if (query.types !== undefined) params.push(...query.types)
          params.push(limit)
          return toPage(readStatement(query).all(...params), "text")
        },
        catch: storeError("read")
      })

    const head = (streamId: string): Effect.Effect<number, StoreError> =>
      Effect.try({ try: () => streamHead.get(streamId)?.head ?? 0, catch: storeError("head") })

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
