/**
 * Who owns which session in a fleet of worker processes: one lease row per session.
 *
 * A lease names its owner (a worker process) and an expiry. `acquire` takes a session whose
 * lease is free, expired, or already ours; `renew` pushes the expiry on while the owner lives;
 * `release` hands it back at once (and wakes waiting workers). A dead owner stops renewing, so
 * its leases lapse after the TTL and another worker takes them. Workers also keep a heartbeat
 * row, so the fleet knows how many workers share the sessions.
 *
 * The memory layer is for tests and single-process use; `PgLeases.layer` is the real one.
 *
 * @since 0.1.0
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as PubSub from "effect/PubSub"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

/**
 * A worker process as others see it. `key` is unique per process run; `name` is what the user
 * called it (`--id`).
 *
 * @since 0.1.0
 * @category models
 */
export class Owner extends Schema.Class<Owner>("Owner")({
  key: Schema.String,
  name: Schema.String,
  host: Schema.String,
  pid: Schema.Number,
  /** Sessions this worker runs at most (for the fair share). */
  maxSessions: Schema.Number
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export interface Lease {
  readonly sessionId: string
  readonly owner: Owner
  readonly acquiredAt: Date
  readonly expiresAt: Date
}

/**
 * A live worker (its heartbeat has not expired).
 *
 * @since 0.1.0
 * @category models
 */
export interface WorkerRow {
  readonly owner: Owner
  readonly startedAt: Date
  readonly heartbeatAt: Date
}

/**
 * The lease table could not be reached or answered nonsense.
 *
 * @since 0.1.0
 * @category errors
 */
export class LeaseError extends Schema.TaggedError<LeaseError>()("LeaseError", {
  operation: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `lease ${this.operation} failed: ${this.reason}`
  }
}

/**
 * @since 0.1.0
 * @category tags
 */
export class Leases extends Context.Tag("dabgent/Leases")<
  Leases,
  {
    /**
     * Takes the session's lease when it is free, expired or already ours, until now + `ttl`
     * (by the coordinator's clock); `None` when another owner holds it.
     */
    readonly acquire: (
      sessionId: string,
      owner: Owner,
      ttl: Duration.Duration
    ) => Effect.Effect<Option.Option<Lease>, LeaseError>
    /**
     * Extends the owner's leases to now + `ttl` and returns the sessions still ours; a lease
     * another owner took (or that was released) is missing from the answer. A lapsed lease
     * nobody took is still ours.
     */
    readonly renew: (
      owner: Owner,
      sessionIds: ReadonlyArray<string>,
      ttl: Duration.Duration
    ) => Effect.Effect<ReadonlySet<string>, LeaseError>
    /** Gives the session back at once, if it is ours, and wakes the waiting workers. */
    readonly release: (sessionId: string, owner: Owner) => Effect.Effect<void, LeaseError>
    /** Gives every lease of the owner back and removes its heartbeat (graceful shutdown). */
    readonly releaseAll: (owner: Owner) => Effect.Effect<void, LeaseError>
    /** The leases that have not expired. */
    readonly list: Effect.Effect<ReadonlyArray<Lease>, LeaseError>
    /** Records that the worker lives, until now + `ttl`. */
    readonly heartbeat: (owner: Owner, ttl: Duration.Duration) => Effect.Effect<void, LeaseError>
    /** The workers whose heartbeat has not expired. */
    readonly workers: Effect.Effect<ReadonlyArray<WorkerRow>, LeaseError>
    /** Session ids as they are released (best effort: a poll covers a lost one). */
    readonly released: Stream.Stream<string>
  }
>() {}

interface MemoryLease {
  owner: Owner
  acquiredAt: number
  expiresAt: number
}

/**
 * Leases in memory, timed by the Effect `Clock` (so tests can move time with `TestClock`).
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<Leases["Type"]> = Effect.gen(function* () {
  const leases = new Map<string, MemoryLease>()
  const workers = new Map<
    string,
    { owner: Owner; startedAt: number; heartbeatAt: number; expiresAt: number }
  >()
  const releases = yield* PubSub.unbounded<string>()
  const toLease = (sessionId: string, lease: MemoryLease): Lease => ({
    sessionId,
    owner: lease.owner,
    acquiredAt: new Date(lease.acquiredAt),
    expiresAt: new Date(lease.expiresAt)
  })
  const drop = (sessionId: string, owner: Owner) =>
    Effect.suspend(() => {
      const lease = leases.get(sessionId)
      if (lease === undefined || lease.owner.key !== owner.key) return Effect.void
      leases.delete(sessionId)
      return PubSub.publish(releases, sessionId)
    })
  return Leases.of({
    acquire: (sessionId, owner, ttl) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const current = leases.get(sessionId)
        if (current !== undefined && current.expiresAt > now && current.owner.key !== owner.key)
          return Option.none()
        const lease: MemoryLease = {
          owner,
          acquiredAt: current !== undefined && current.owner.key === owner.key ? current.acquiredAt : now,
          expiresAt: now + Duration.toMillis(ttl)
        }
        leases.set(sessionId, lease)
        return Option.some(toLease(sessionId, lease))
      }),
    renew: (owner, sessionIds, ttl) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const kept = new Set<string>()
        for (const sessionId of sessionIds) {
          const lease = leases.get(sessionId)
          if (lease === undefined || lease.owner.key !== owner.key) continue
          lease.expiresAt = now + Duration.toMillis(ttl)
          kept.add(sessionId)
        }
        return kept
      }),
    release: drop,
    releaseAll: (owner) =>
      Effect.suspend(() => {
        workers.delete(owner.key)
        const mine = [...leases].filter(([, lease]) => lease.owner.key === owner.key).map(([id]) => id)
        return Effect.forEach(mine, (sessionId) => drop(sessionId, owner), { discard: true })
      }),
    list: Effect.map(Clock.currentTimeMillis, (now) =>
      [...leases].filter(([, lease]) => lease.expiresAt > now).map(([id, lease]) => toLease(id, lease))
    ),
    heartbeat: (owner, ttl) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const row = workers.get(owner.key)
        workers.set(owner.key, {
          owner,
          startedAt: row?.startedAt ?? now,
          heartbeatAt: now,
          expiresAt: now + Duration.toMillis(ttl)
        })
      }),
    workers: Effect.map(Clock.currentTimeMillis, (now) =>
      [...workers.values()]
        .filter((row) => row.expiresAt > now)
        .map((row) => ({
          owner: row.owner,
          startedAt: new Date(row.startedAt),
          heartbeatAt: new Date(row.heartbeatAt)
        }))
    ),
    released: Stream.fromPubSub(releases)
  })
})

/**
 * In-memory leases shared by everything that uses this layer.
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<Leases> = Layer.effect(Leases, makeMemory)
