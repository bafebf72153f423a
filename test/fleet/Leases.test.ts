/**
 * The lease rules, on the memory layer and on Postgres (the test database): one owner at a
 * time, renewal, takeover after expiry, release (with its notification), and a stale owner's
 * renewal refused once another took the lease.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { randomBytes } from "node:crypto"
import { Leases, layerMemory, Owner, type LeaseError } from "../../src/fleet/Leases.js"
import * as PgLeases from "../../src/fleet/PgLeases.js"
import { testDatabaseUrl } from "../support/postgres.js"

const owner = (name: string, maxSessions = 10) =>
  new Owner({ key: `${name}-${randomBytes(4).toString("hex")}`, name, host: "test", pid: 1, maxSessions })

const ttl = Duration.millis(400)
const session = () => `s-${randomBytes(5).toString("hex")}`

const backends: ReadonlyArray<readonly [string, () => Layer.Layer<Leases, LeaseError>]> = [
  ["memory", () => layerMemory],
  ["postgres", () => PgLeases.layer({ url: testDatabaseUrl() })]
]

describe.each(backends)("Leases (%s)", (_name, layer) => {
  const run = <A, E>(effect: Effect.Effect<A, E, Leases>) => Effect.provide(effect, layer())

  it.live("one owner at a time: a second owner gets nothing while the lease lives", () =>
    run(
      Effect.gen(function* () {
        const leases = yield* Leases
        const [a, b, id] = [owner("a"), owner("b"), session()]
        const first = yield* leases.acquire(id, a, ttl)
        expect(Option.map(first, (lease) => lease.owner.key)).toEqual(Option.some(a.key))
        expect(yield* leases.acquire(id, b, ttl)).toEqual(Option.none())
        // The owner may take it again (e.g. after a restart of its claim loop); acquiredAt stays.
        const again = yield* leases.acquire(id, a, ttl)
        expect(Option.map(again, (lease) => lease.acquiredAt.getTime())).toEqual(
          Option.map(first, (lease) => lease.acquiredAt.getTime())
        )
        const listed = (yield* leases.list).filter((lease) => lease.sessionId === id)
        expect(listed.map((lease) => [lease.owner.name, lease.owner.host, lease.owner.pid])).toEqual([
          ["a", "test", 1]
        ])
      })
    )
  )

  it.live("racing owners: exactly one wins", () =>
    run(
      Effect.gen(function* () {
        const leases = yield* Leases
        const id = session()
        const owners = Array.from({ length: 8 }, (_, i) => owner(`r${i}`))
        const results = yield* Effect.forEach(owners, (o) => leases.acquire(id, o, ttl), {
          concurrency: "unbounded"
        })
        expect(results.filter(Option.isSome)).toHaveLength(1)
      })
    )
  )

  it.live("an expired lease is taken over, and the stale owner's renewal is refused", () =>
    run(
      Effect.gen(function* () {
        const leases = yield* Leases
        const [a, b, id] = [owner("a"), owner("b"), session()]
        expect(Option.isSome(yield* leases.acquire(id, a, ttl))).toBe(true)
        yield* Effect.sleep("600 millis")
        expect(Option.isSome(yield* leases.acquire(id, b, ttl))).toBe(true)
        expect([...(yield* leases.renew(a, [id], ttl))]).toEqual([])
        expect([...(yield* leases.renew(b, [id], ttl))]).toEqual([id])
        // A release by the stale owner changes nothing.
        yield* leases.release(id, a)
        expect(yield* leases.acquire(id, a, ttl)).toEqual(Option.none())
      })
    )
  )

  it.live("renewal keeps a lease alive past its first expiry", () =>
    run(
      Effect.gen(function* () {
        const leases = yield* Leases
        const [a, b, id] = [owner("a"), owner("b"), session()]
        yield* leases.acquire(id, a, ttl)
        for (let i = 0; i < 4; i++) {
          yield* Effect.sleep("150 millis")
          expect([...(yield* leases.renew(a, [id], ttl))]).toEqual([id])
        }
        expect(yield* leases.acquire(id, b, ttl)).toEqual(Option.none())
      })
    )
  )

  it.live("release hands the session over at once and announces it", () =>
    run(
      Effect.gen(function* () {
        const leases = yield* Leases
        const [a, b, id] = [owner("a"), owner("b"), session()]
        yield* leases.acquire(id, a, Duration.seconds(30))
        const heard = yield* Effect.fork(
          leases.released.pipe(
            Stream.filter((released) => released === id),
            Stream.take(1),
            Stream.runCollect
          )
        )
        yield* Effect.sleep("200 millis")
        yield* leases.release(id, a)
        expect(Option.isSome(yield* leases.acquire(id, b, ttl))).toBe(true)
        const got = yield* Fiber.join(heard).pipe(Effect.timeout("5 seconds"))
        expect(Chunk.toReadonlyArray(got)).toEqual([id])
      })
    )
  )

  it.live("workers: heartbeats expire; releaseAll returns every lease and removes the worker", () =>
    run(
      Effect.gen(function* () {
        const leases = yield* Leases
        const [a, b] = [owner("a", 3), owner("b", 5)]
        const ids = [session(), session()]
        yield* leases.heartbeat(a, Duration.seconds(30))
        yield* leases.heartbeat(b, ttl)
        for (const id of ids) yield* leases.acquire(id, a, Duration.seconds(30))
        const live = (yield* leases.workers).filter((w) => w.owner.key === a.key || w.owner.key === b.key)
        expect(live.map((w) => [w.owner.name, w.owner.maxSessions]).sort()).toEqual([
          ["a", 3],
          ["b", 5]
        ])
        yield* Effect.sleep("600 millis")
        expect((yield* leases.workers).some((w) => w.owner.key === b.key)).toBe(false)
        yield* leases.releaseAll(a)
        expect((yield* leases.workers).some((w) => w.owner.key === a.key)).toBe(false)
        expect((yield* leases.list).filter((lease) => ids.includes(lease.sessionId))).toEqual([])
        for (const id of ids) expect(Option.isSome(yield* leases.acquire(id, b, ttl))).toBe(true)
      })
    )
  )
})
