/**
 * Leases in PostgreSQL, the database the event log already lives in: the coordinator of a
 * fleet is the database, as in pg-boss and graphile-worker.
 *
 * Every time is the database's (`now()`), so workers on hosts with skewed clocks agree on
 * who holds what. `acquire` is one `INSERT … ON CONFLICT DO UPDATE … WHERE` statement, so two
 * workers racing for a session cannot both win. `release` sends `pg_notify` in the same
 * statement; one `LISTEN` connection per process turns it into `released`.
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as PubSub from "effect/PubSub"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import pg from "pg"
import * as PgListener from "../store/PgListener.js"
import { LeaseError, Leases, Owner, type Lease, type WorkerRow } from "./Leases.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface PgLeasesOptions {
  /** The same database as the event log. Kept redacted. */
  readonly url: Redacted.Redacted<string>
}

/** The channel `release` notifies on; the payload is the session id. */
const channel = "dabgent_leases"

const failure = (operation: string) => (cause: unknown) =>
  new LeaseError({
    operation,
    reason: (cause instanceof Error ? cause.message : String(cause)).replace(
      /postgres(ql)?:\/\/[^\s]*/g,
      "postgres://<redacted>"
    )
  })

const decodeOwner = Schema.decodeUnknown(Owner)

interface LeaseRow {
  readonly session_id: string
  readonly owner_info: unknown
  readonly acquired_at: Date
  readonly expires_at: Date
}

interface WorkerDbRow {
  readonly owner_info: unknown
  readonly started_at: Date
  readonly heartbeat_at: Date
}

const toLease = (row: LeaseRow, operation: string): Effect.Effect<Lease, LeaseError> =>
  Effect.map(Effect.mapError(decodeOwner(row.owner_info), failure(operation)), (owner): Lease => ({
    sessionId: row.session_id,
    owner,
    acquiredAt: row.acquired_at,
    expiresAt: row.expires_at
  }))

const ownerInfo = (owner: Owner) => JSON.stringify(Schema.encodeSync(Owner)(owner))

/** Creates the tables once, under an advisory lock, so workers starting together do not race. */
const migrate = (pool: pg.Pool) =>
  Effect.tryPromise({
    try: async () => {
      const client = await pool.connect()
      try {
        await client.query("BEGIN")
        await client.query("SELECT pg_advisory_xact_lock(hashtext('dabgent_leases_migrations'))")
        await client.query(`CREATE TABLE IF NOT EXISTS dabgent_leases (
          session_id text PRIMARY KEY,
          owner text NOT NULL,
          owner_info jsonb NOT NULL,
          acquired_at timestamptz NOT NULL,
          expires_at timestamptz NOT NULL
        )`)
        await client.query("CREATE INDEX IF NOT EXISTS dabgent_leases_owner ON dabgent_leases (owner)")
        await client.query(`CREATE TABLE IF NOT EXISTS dabgent_workers (
          owner text PRIMARY KEY,
          owner_info jsonb NOT NULL,
          started_at timestamptz NOT NULL,
          heartbeat_at timestamptz NOT NULL,
          expires_at timestamptz NOT NULL
        )`)
        await client.query("COMMIT")
      } catch (error) {
        await client.query("ROLLBACK").catch(() => undefined)
        throw error
      } finally {
        client.release()
      }
    },
    catch: failure("migrate")
  })

/** One `LISTEN` connection that publishes released session ids. */
const listen = (url: string, releases: PubSub.PubSub<string>): Effect.Effect<void, LeaseError, Scope.Scope> =>
  PgListener.listen({
    url,
    channel,
    onPayload: (payload) => {
      if (payload !== "") Effect.runFork(PubSub.publish(releases, payload))
    },
    onError: failure("listen")
  })

/**
 * The leases on an existing pool (tables created if missing) plus a listener of its own.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: {
  readonly pool: pg.Pool
  readonly url: Redacted.Redacted<string>
}): Effect.Effect<Leases["Type"], LeaseError, Scope.Scope> =>
  Effect.gen(function* () {
    const { pool } = options
    yield* migrate(pool)
    const releases = yield* PubSub.unbounded<string>()
    yield* Effect.addFinalizer(() => PubSub.shutdown(releases))
    yield* listen(Redacted.value(options.url), releases)

    const query = <R extends pg.QueryResultRow>(
      operation: string,
      text: string,
      values: ReadonlyArray<unknown>
    ) =>
      Effect.tryPromise({
        try: () => pool.query<R>(text, [...values]),
        catch: failure(operation)
      })

    const ms = (ttl: Duration.Duration) => Math.max(1, Math.round(Duration.toMillis(ttl)))

    return Leases.of({
      acquire: (sessionId, owner, ttl) =>
        Effect.flatMap(
          query<LeaseRow>(
            "acquire",
            `INSERT INTO dabgent_leases AS l (session_id, owner, owner_info, acquired_at, expires_at)
               VALUES ($1, $2, $3::jsonb, now(), now() + $4 * interval '1 millisecond')
             ON CONFLICT (session_id) DO UPDATE SET
               owner = excluded.owner,
               owner_info = excluded.owner_info,
               acquired_at = CASE WHEN l.owner = excluded.owner THEN l.acquired_at ELSE now() END,
               expires_at = excluded.expires_at
             WHERE l.expires_at <= now() OR l.owner = excluded.owner
             RETURNING session_id, owner_info, acquired_at, expires_at`,
            [sessionId, owner.key, ownerInfo(owner), ms(ttl)]
          ),
          (result) => {
            const row = result.rows[0]
            return row === undefined ? Effect.succeedNone : Effect.asSome(toLease(row, "acquire"))
          }
        ),
      renew: (owner, sessionIds, ttl) =>
        sessionIds.length === 0
          ? Effect.succeed(new Set<string>())
          : Effect.map(
              query<{ session_id: string }>(
                "renew",
                `UPDATE dabgent_leases SET expires_at = now() + $3 * interval '1 millisecond'
                 WHERE owner = $1 AND session_id = ANY($2::text[])
                 RETURNING session_id`,
                [owner.key, sessionIds, ms(ttl)]
              ),
              (result) => new Set(result.rows.map((row) => row.session_id))
            ),
      release: (sessionId, owner) =>
        Effect.asVoid(
          query(
            "release",
            `WITH gone AS (DELETE FROM dabgent_leases WHERE session_id = $1 AND owner = $2 RETURNING session_id)
             SELECT pg_notify('${channel}', session_id) FROM gone`,
            [sessionId, owner.key]
          )
        ),
      releaseAll: (owner) =>
        Effect.asVoid(
          query(
            "release",
            `WITH gone AS (DELETE FROM dabgent_leases WHERE owner = $1 RETURNING session_id),
                  worker AS (DELETE FROM dabgent_workers WHERE owner = $1)
             SELECT pg_notify('${channel}', session_id) FROM gone`,
            [owner.key]
          )
        ),
      list: Effect.flatMap(
        query<LeaseRow>(
          "list",
          `SELECT session_id, owner_info, acquired_at, expires_at FROM dabgent_leases
           WHERE expires_at > now() ORDER BY session_id`,
          []
        ),
        (result) => Effect.forEach(result.rows, (row) => toLease(row, "list"))
      ),
      heartbeat: (owner, ttl) =>
        Effect.asVoid(
          query(
            "heartbeat",
            `INSERT INTO dabgent_workers AS w (owner, owner_info, started_at, heartbeat_at, expires_at)
               VALUES ($1, $2::jsonb, now(), now(), now() + $3 * interval '1 millisecond')
             ON CONFLICT (owner) DO UPDATE SET heartbeat_at = now(), expires_at = excluded.expires_at`,
            [owner.key, ownerInfo(owner), ms(ttl)]
          )
        ),
      workers: Effect.flatMap(
        query<WorkerDbRow>(
          "workers",
          `SELECT owner_info, started_at, heartbeat_at FROM dabgent_workers
           WHERE expires_at > now() ORDER BY started_at`,
          []
        ),
        (result) =>
          Effect.forEach(result.rows, (row) =>
            Effect.map(
              Effect.mapError(decodeOwner(row.owner_info), failure("workers")),
              (owner): WorkerRow => ({ owner, startedAt: row.started_at, heartbeatAt: row.heartbeat_at })
            )
          )
      ),
      released: Stream.fromPubSub(releases)
    })
  })

/**
 * Leases on a Postgres database, with a small pool of their own.
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: PgLeasesOptions): Layer.Layer<Leases, LeaseError> =>
  Layer.scoped(
    Leases,
    Effect.flatMap(
      Effect.acquireRelease(
        Effect.sync(() => {
          const pool = new pg.Pool({ connectionString: Redacted.value(options.url), max: 3 })
          pool.on("error", () => undefined)
          return pool
        }),
        (pool) => Effect.promise(() => pool.end().catch(() => undefined))
      ),
      (pool) => make({ pool, url: options.url })
    )
  )

/**
 * The live leases and workers, for readers such as `dabgent sessions`: creates nothing (a store
 * no worker ever used has no lease table, and then there is nothing to show).
 *
 * @since 0.1.0
 * @category reading
 */
export const readOnly = (
  options: PgLeasesOptions
): Effect.Effect<
  { readonly leases: ReadonlyArray<Lease>; readonly workers: ReadonlyArray<WorkerRow> },
  LeaseError
> =>
  Effect.acquireUseRelease(
    Effect.sync(() => {
      const pool = new pg.Pool({ connectionString: Redacted.value(options.url), max: 1 })
      pool.on("error", () => undefined)
      return pool
    }),
    (pool) =>
      Effect.gen(function* () {
        const exists = yield* Effect.tryPromise({
          try: () =>
            pool.query<{ ok: boolean }>(
              "SELECT to_regclass('dabgent_leases') IS NOT NULL AND to_regclass('dabgent_workers') IS NOT NULL AS ok"
            ),
          catch: failure("list")
        })
        if (exists.rows[0]?.ok !== true) return { leases: [], workers: [] }
        const leasesRows = yield* Effect.tryPromise({
          try: () =>
            pool.query<LeaseRow>(
              `SELECT session_id, owner_info, acquired_at, expires_at FROM dabgent_leases WHERE expires_at > now()`
            ),
          catch: failure("list")
        })
        const workerRows = yield* Effect.tryPromise({
          try: () =>
            pool.query<WorkerDbRow>(
              `SELECT owner_info, started_at, heartbeat_at FROM dabgent_workers WHERE expires_at > now()`
            ),
          catch: failure("workers")
        })
        const leases = yield* Effect.forEach(leasesRows.rows, (row) => toLease(row, "list"))
        const workers = yield* Effect.forEach(workerRows.rows, (row) =>
          Effect.map(
            Effect.mapError(decodeOwner(row.owner_info), failure("workers")),
            (owner): WorkerRow => ({ owner, startedAt: row.started_at, heartbeatAt: row.heartbeat_at })
          )
        )
        return { leases, workers }
      }),
    (pool) => Effect.promise(() => pool.end().catch(() => undefined))
  )
