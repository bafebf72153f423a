/**
 * Append throughput on Postgres, 1 KB events, 1 and 4 producers: `PgEventStore` against a raw
 * `pg` single-row INSERT of the same payload (its own table, bigserial + json) and against
 * Emmett's PostgreSQL event store, all on the same database, interleaved round by round.
 *
 * dabgent producers write to one stream (as sessions do: they share the `dabgent` stream), each
 * to its own aggregate with a version check; Emmett producers each write to their own stream
 * (Emmett's stream is our aggregate) with a version check; raw producers each use their own
 * connection (4 producers = 4 connections for every contender).
 */
import { getPostgreSQLEventStore, type PostgresEventStore } from "@event-driven-io/emmett-postgresql"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import pg from "pg"
import { EventStore } from "../../src/store/EventStore.js"
import * as PgEventStore from "../../src/store/PgEventStore.js"
import {
  median,
  noDatabase,
  payload1k,
  ratioResult,
  rotated,
  skipped,
  throughput,
  type BenchCase,
  type Result
} from "../lib/common.js"

type Contender = "dabgent" | "raw" | "emmett"

export const appendPg: BenchCase = {
  name: "append-pg",
  description: "Postgres append throughput vs raw INSERT and Emmett",
  run: async ({ quick, databaseUrl, runId, log }) => {
    const names = [1, 4].flatMap((p) => [`append pg ${p}p vs raw`, `append pg ${p}p vs emmett`])
    if (databaseUrl === undefined) return names.map((name) => skipped(name, "appends/s", noDatabase))
    const url = databaseUrl
    const data = payload1k()
    const rounds = quick ? 3 : 5
    const perProducer = quick ? 200 : 1500
    const rawTable = `${runId}_raw_append`
    const streamId = `${runId}-append`

    const admin = new pg.Client({ connectionString: url })
    await admin.connect()
    await admin.query(`CREATE TABLE ${rawTable} (id bigserial PRIMARY KEY, data json NOT NULL)`)
    const rawClients = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const client = new pg.Client({ connectionString: url })
        await client.connect()
        return client
      })
    )
    const runtime = ManagedRuntime.make(PgEventStore.layer({ url: Redacted.make(url), maxConnections: 4 }))
    const store = await runtime.runPromise(EventStore)
    let emmett: PostgresEventStore | undefined
    let emmettError: string | undefined
    try {
      emmett = getPostgreSQLEventStore(url)
      await emmett.appendToStream(`${runId}-emmett-warmup`, [{ type: "ToolCompleted", data }])
    } catch (error) {
      emmettError = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
      log(`emmett failed: ${emmettError}`)
      emmett = undefined
    }

    // Per round and producer count, a fresh aggregate / stream per producer, so versions start at 0.
    const versions = new Map<string, number>()
    const next = (key: string) => {
      const version = versions.get(key) ?? 0
      versions.set(key, version + 1)
      return version
    }
    const contenders: Record<Contender, (round: string, producer: number) => Promise<unknown>> = {
      dabgent: (round, producer) => {
        const aggregateId = `${round}-p${producer}`
        return runtime.runPromise(
          store.append({
            streamId,
            aggregateId,
            events: [{ type: "thread.ToolCompleted", data }],
            expectedVersion: next(`d:${aggregateId}`)
          })
        )
      },
      raw: (_round, producer) =>
        (rawClients[producer] as pg.Client).query({
          name: "bench_raw_insert",
          text: `INSERT INTO ${rawTable} (data) VALUES ($1)`,
          values: [JSON.stringify(data)]
        }),
      emmett: (round, producer) => {
        const stream = `${runId}-emmett-${round}-p${producer}`
        return (emmett as PostgresEventStore).appendToStream(stream, [{ type: "ToolCompleted", data }], {
          expectedStreamVersion: BigInt(next(`e:${stream}`))
        })
      }
    }
    const order: ReadonlyArray<Contender> =
      emmett === undefined ? ["dabgent", "raw"] : ["dabgent", "raw", "emmett"]

    const results: Array<Result> = []
    try {
      for (const producers of [1, 4]) {
        const samples: Record<Contender, Array<number>> = { dabgent: [], raw: [], emmett: [] }
        // Warm-up: connections, prepared statements, JIT.
        for (const contender of order)
          await throughput(producers, 100, (p, i) => contenders[contender](`w${producers}-${i}`, p))
        for (let round = 0; round < rounds; round++) {
          for (const contender of rotated(order, round)) {
            const tag = `r${producers}-${round}`
            const rate = await throughput(producers, perProducer, (p) => contenders[contender](tag, p))
            samples[contender].push(rate)
          }
          log(
            `${producers}p round ${round + 1}/${rounds}: ` +
              order.map((c) => `${c} ${Math.round(samples[c].at(-1) ?? 0)}/s`).join(", ")
          )
        }
        const dabgent = median(samples.dabgent)
        const raw = median(samples.raw)
        results.push(ratioResult(`append pg ${producers}p vs raw`, dabgent, raw, "appends/s", 0.8))
        if (emmett === undefined)
          results.push(skipped(`append pg ${producers}p vs emmett`, "appends/s", `emmett: ${emmettError}`))
        else
          results.push(
            ratioResult(`append pg ${producers}p vs emmett`, dabgent, median(samples.emmett), "appends/s", 2)
          )
      }
    } finally {
      await admin.query(`DROP TABLE IF EXISTS ${rawTable}`)
      await admin.query(`DELETE FROM dabgent_events WHERE stream_id = $1`, [streamId])
      await admin.query(`DELETE FROM dabgent_streams WHERE stream_id = $1`, [streamId])
      if (emmett !== undefined) {
        await admin.query(`DELETE FROM emt_messages WHERE stream_id LIKE $1`, [`${runId}-emmett-%`])
        await admin.query(`DELETE FROM emt_streams WHERE stream_id LIKE $1`, [`${runId}-emmett-%`])
        await emmett.close()
      }
      await Promise.all(rawClients.map((client) => client.end()))
      await admin.end()
      await runtime.dispose()
    }
    return results
  }
}
