/**
 * The event store on PostgreSQL, for teams and for many processes on one database.
 *
 * An append is one round trip: a prepared call of the `dabgent_append` function on the `pg`
 * pool, which bumps the stream head, checks the version, inserts and sends `pg_notify` in the
 * same transaction. Each store holds one `LISTEN` connection that wakes its subscribers; a
 * slow poll of the head covers a dropped listener. Reads and migrations go through
 * `@effect/sql-pg`, sharing the same pool.
 *
 * @since 0.1.0
 */
import * as SqlClient from "@effect/sql/SqlClient"
import type * as Statement from "@effect/sql/Statement"
import * as Migrator from "@effect/sql/Migrator"
import * as PgClient from "@effect/sql-pg/PgClient"
import * as Config from "effect/Config"
import type * as ConfigError from "effect/ConfigError"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import pg from "pg"
import { EventStore } from "./EventStore.js"
import { ConcurrencyError, StoreError } from "./EventStoreError.js"
import { make as makeStore, type Page, type PageRequest } from "./internal/makeStore.js"
import { migrations, notifyChannel, versionConflictCode } from "./internal/pgMigrations.js"
import { encodeJson, toPage, type EventRow } from "./internal/rows.js"
import * as PgListener from "./PgListener.js"
import * as StreamHeads from "./internal/StreamHeads.js"
import type { AppendRequest, AppendResult } from "./StoredEvent.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface PgEventStoreOptions {
  /** `postgres://user:password@host:port/database`; kept redacted. */
  readonly url: Redacted.Redacted<string>
  /** Pool size. Default 10. */
  readonly maxConnections?: number
  /** How often a waiting subscriber re-reads the head, in case a notification was lost. Default 1 second. */
  readonly pollInterval?: Duration.DurationInput
}

const storeError = (operation: string) => (cause: unknown) =>
  new StoreError({ operation, reason: describe(cause), cause })

/**
 * A message with the underlying reason (`@effect/sql` wraps "connect ECONNREFUSED ..." in
 * "Failed to acquire connection"), without the connection string (node-pg errors never include
 * the password, but be sure).
 */
const describe = (cause: unknown): string => {
  const messages: Array<string> = []
  for (let error: unknown = cause, depth = 0; error !== undefined && depth < 4; depth++) {
    const text = error instanceof Error ? error.message : String(error)
    if (text !== "" && !messages.includes(text)) messages.push(text)
    error = error instanceof Error ? error.cause : undefined
  }
  const [first = "", ...reasons] = messages
  const text = reasons.length === 0 ? first : `${first} (${reasons.join(": ")})`
  return text.replace(/postgres(ql)?:\/\/[^\s]*/g, "postgres://<redacted>")
}

const int8AsNumber: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === 20
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"]
}

interface AppendRow {
  readonly first_sequence: number
  readonly last_sequence: number
  readonly new_version: number
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null

/** The store's `LISTEN` connection: each `<head>:<streamId>` notification moves that stream's head. */
const listen = (url: string, heads: StreamHeads.StreamHeads): Effect.Effect<void, StoreError, Scope.Scope> =>
  PgListener.listen({
    url,
    channel: notifyChannel,
    onPayload: (payload) => {
      const colon = payload.indexOf(":")
      const head = Number(payload.slice(0, colon))
      if (colon > 0 && Number.isSafeInteger(head)) heads.publish(payload.slice(colon + 1), head)
    },
    onError: storeError("listen")
  })

/**
 * Opens the store on an existing pool: runs migrations (under an advisory lock, so processes
 * starting together do not race), starts the listener.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly pool: pg.Pool
  readonly url: Redacted.Redacted<string>
  readonly pollInterval?: Duration.DurationInput
}): Effect.Effect<EventStore["Type"], StoreError, SqlClient.SqlClient | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const { pool } = options
    // The Migrator creates its table without IF NOT EXISTS; processes starting together would
    // race on it. Create it first under an advisory lock; the Migrator then locks the table.
    yield* sql
      .withTransaction(
        Effect.zipRight(
          sql`SELECT pg_advisory_xact_lock(hashtext('dabgent_migrations'))`,
          sql`CREATE TABLE IF NOT EXISTS dabgent_migrations (
            migration_id integer primary key,
            created_at timestamp with time zone not null default now(),
            name text not null
          )`
        )
      )
      .pipe(
        Effect.zipRight(
          Migrator.make({})({ loader: Migrator.fromRecord(migrations), table: "dabgent_migrations" })
        ),
        Effect.mapError(storeError("migrate"))
      )

    const heads = StreamHeads.make()
    yield* listen(Redacted.value(options.url), heads)

    const append = (request: AppendRequest): Effect.Effect<AppendResult, ConcurrencyError | StoreError> =>
      Effect.tryPromise({
        try: async () => {
          const values = [
            request.streamId,
            request.aggregateId,
            request.expectedVersion === undefined || request.expectedVersion === "any"
              ? null
              : request.expectedVersion,
            request.events.map((event) => event.type),
            request.events.map((event) => encodeJson(event.data)),
            encodeJson(request.metadata ?? {})
          ]
          const result = await pool.query<AppendRow>({
            name: "dabgent_append",
            text: "SELECT first_sequence, last_sequence, new_version FROM dabgent_append($1, $2, $3, $4, $5, $6)",
            values
          })
          const row = result.rows[0]
          if (row === undefined) throw new Error("dabgent_append returned no row")
          return {
            firstSequence: row.first_sequence,
            lastSequence: row.last_sequence,
            version: row.new_version
          }
        },
        catch: (error) =>
          isRecord(error) && error.code === versionConflictCode
            ? new ConcurrencyError({
                streamId: request.streamId,
                aggregateId: request.aggregateId,
                expected: typeof request.expectedVersion === "number" ? request.expectedVersion : 0,
                actual: Number(error.detail)
              })
            : storeError("append")(error)
      })

    const readPage = ({ query, after, upTo, limit }: PageRequest): Effect.Effect<Page, StoreError> => {
      const filters: Array<Statement.Fragment> = [
        sql`stream_id = ${query.streamId}`,
        sql`sequence > ${after}`,
        sql`sequence <= ${upTo}`
      ]
      if (query.aggregateId !== undefined) filters.push(sql`aggregate_id = ${query.aggregateId}`)
      if (query.aggregatePrefix !== undefined)
        filters.push(sql`starts_with(aggregate_id, ${query.aggregatePrefix})`)
      if (query.types !== undefined) filters.push(sql`type = ANY(${query.types})`)
      return sql<EventRow>`SELECT stream_id, sequence, aggregate_id, version, type, data, metadata, created_at
        FROM dabgent_events WHERE ${sql.and(filters)} ORDER BY sequence LIMIT ${limit}`.pipe(
        Effect.mapError(storeError("read")),
        Effect.map((rows) => toPage(rows, "parsed"))
      )
    }

    const head = (streamId: string): Effect.Effect<number, StoreError> =>
      sql<{ head: number }>`SELECT head FROM dabgent_streams WHERE stream_id = ${streamId}`.pipe(
        Effect.map((rows) => Number(rows[0]?.head ?? 0)),
        Effect.mapError(storeError("head"))
      )

    return makeStore({
      append,
      readPage,
      head,
      heads,
      pollInterval: Option.some(options.pollInterval ?? Duration.seconds(1)),
      pageSize: 1000
    })
  })

/**
 * The store on a Postgres database: its own pool, shared by the fast append path and an
 * `@effect/sql-pg` client.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: PgEventStoreOptions): Layer.Layer<EventStore, StoreError> => {
  const acquire = Effect.acquireRelease(
    Effect.sync(() => {
      const pool = new pg.Pool({
        connectionString: Redacted.value(options.url),
        max: options.maxConnections ?? 10,
        types: int8AsNumber
      })
      // A connection dropped while idle must not crash the process; the next query reconnects.
      pool.on("error", () => undefined)
      return pool
    }),
    (pool) => Effect.promise(() => pool.end().catch(() => undefined))
  )
  return Layer.unwrapScoped(
    Effect.map(acquire, (pool) =>
      Layer.scoped(
        EventStore,
        make({
          pool,
          url: options.url,
          ...(options.pollInterval ? { pollInterval: options.pollInterval } : {})
        })
      ).pipe(Layer.provide(PgClient.layerFromPool({ acquire: Effect.succeed(pool) })))
    )
  ).pipe(Layer.mapError((error) => (error._tag === "StoreError" ? error : storeError("connect")(error))))
}

/**
 * The store from `Config`: the URL in `DABGENT_DATABASE_URL`.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerConfig = (
  config: Config.Config<PgEventStoreOptions> = Config.map(Config.redacted("DABGENT_DATABASE_URL"), (url) => ({
    url
  }))
): Layer.Layer<EventStore, StoreError | ConfigError.ConfigError> =>
  Layer.unwrapEffect(Effect.map(config, layer))
