/**
 * `dabgent sessions`: every session in the store with its status.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import { ExitCode } from "./ExitCode.js"
import * as Shared from "./options.js"
import * as PgLeases from "../fleet/PgLeases.js"
import * as Sessions from "./Sessions.js"
import * as StoreLocation from "./StoreLocation.js"

const pad = (text: string, width: number) =>
  text.length >= width ? text : text + " ".repeat(width - text.length)

/**
 * @since 0.1.0
 * @category commands
 */
export const sessions = Command.make(
  "sessions",
  { store: Shared.store, json: Shared.json },
  ({ store, json }) =>
    Effect.gen(function* () {
      const all = yield* Sessions.list
      const location = StoreLocation.parse(store)
      // With a fleet (`dabgent worker`), which worker holds each session's lease right now.
      const fleet =
        location._tag === "Postgres"
          ? yield* PgLeases.readOnly({ url: location.url })
          : { leases: [], workers: [] }
      const owners = new Map(fleet.leases.map((lease) => [lease.sessionId, lease.owner]))
      const ownerOf = (sessionId: string) => {
        const owner = owners.get(sessionId)
        return owner === undefined ? undefined : { id: owner.name, host: owner.host, pid: owner.pid }
      }
      const rows = all.map((s) => ({
        id: s.sessionId,
        mode: s.started.mode,
        status: s.progress.status,
        steps: s.progress.steps,
        tokens: s.progress.tokens,
        started: s.startedAt.toISOString(),
        model: s.latest.model,
        input: s.started.input,
        ...(s.started.detached === true ? { detached: true } : {}),
        ...(owners.has(s.sessionId) ? { owner: ownerOf(s.sessionId) } : {})
      }))
      if (json) {
        yield* Effect.forEach(rows, (row) => Console.log(JSON.stringify(row)), { discard: true })
        return
      }
      if (rows.length === 0) {
        yield* Console.log("no sessions yet")
        return
      }
      const showOwners = owners.size > 0
      const header = [
        "SESSION",
        "MODE",
        "STATUS",
        "STEPS",
        "TOKENS",
        "STARTED",
        "MODEL",
        ...(showOwners ? ["WORKER"] : []),
        "INPUT"
      ]
      const table = [
        header,
        ...rows.map((r) => [
          r.id,
          r.mode,
          r.status,
          String(r.steps),
          String(r.tokens),
          r.started,
          r.model,
          ...(showOwners
            ? [r.owner === undefined ? "-" : `${r.owner.id}@${r.owner.host}:${r.owner.pid}`]
            : []),
          r.input.replace(/\s+/g, " ").slice(0, 50)
        ])
      ]
      const widths = header.map((_, column) => Math.max(...table.map((row) => (row[column] ?? "").length)))
      yield* Effect.forEach(
        table,
        (row) =>
          Console.log(
            row
              .map((cell, i) => pad(cell, widths[i] ?? 0))
              .join("  ")
              .trimEnd()
          ),
        {
          discard: true
        }
      )
      if (fleet.workers.length > 0) {
        const held = (key: string) => fleet.leases.filter((lease) => lease.owner.key === key).length
        yield* Console.log(
          `\nworkers: ${fleet.workers
            .map(
              (w) =>
                `${w.owner.name}@${w.owner.host}:${w.owner.pid} (${held(w.owner.key)}/${w.owner.maxSessions})`
            )
            .join(", ")}`
        )
      }
    }).pipe(
      Effect.provide(StoreLocation.layer(StoreLocation.parse(store))),
      Effect.mapError((error) => new ExitCode({ code: 2, message: `dabgent: ${error.message}` }))
    )
).pipe(
  Command.withDescription(
    "List the sessions in the store: id, mode, status, steps, tokens, started, and the worker that owns each (with a fleet)."
  )
)
