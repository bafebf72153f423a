/**
 * `dabgent worker --store postgres://…`: one worker of a fleet. Start one or more on each
 * machine against the same Postgres; each claims its share of the sessions submitted with
 * `--detach`, runs them as `dabgent resume` would, and prints one line per session it claims or
 * releases. SIGTERM (or Ctrl-C) stops its sessions and hands them back at once.
 *
 * @since 0.1.0
 */
import * as Command from "@effect/cli/Command"
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as Options from "@effect/cli/Options"
import * as ValidationError from "@effect/cli/ValidationError"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import { randomBytes } from "node:crypto"
import { hostname } from "node:os"
import { defaultStreamId } from "../DabgentAgent.js"
import * as FleetWorker from "../fleet/FleetWorker.js"
import { Owner } from "../fleet/Leases.js"
import * as PgLeases from "../fleet/PgLeases.js"
import { ExitCode } from "./ExitCode.js"
import * as Shared from "./options.js"
import { resumeSettings } from "./ResumeCommand.js"
import * as RunEnvironment from "./RunEnvironment.js"
import * as RunThread from "./RunThread.js"
import * as Sessions from "./Sessions.js"
import * as StoreLocation from "./StoreLocation.js"

const durationPattern = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/

/**
 * `--lease-ttl 6s` (also `500ms`, `1m`; a bare number is seconds).
 *
 * @since 0.1.0
 * @category options
 */
export const leaseTtl = Options.text("lease-ttl").pipe(
  Options.withDescription(
    "How long a session's lease lasts without renewal: a crashed worker's sessions are taken over within about this time (default 6s; renewed every third of it)."
  ),
  Options.withDefault("6s"),
  Options.mapEffect((text) => {
    const match = durationPattern.exec(text.trim())
    const amount = Number(match?.[1])
    if (match === null || !Number.isFinite(amount))
      return Effect.fail(ValidationError.invalidValue(HelpDoc.p(`--lease-ttl: not a duration: ${text}`)))
    const ttl =
      match[2] === "ms"
        ? Duration.millis(amount)
        : match[2] === "m"
          ? Duration.minutes(amount)
          : Duration.seconds(amount)
    return Duration.lessThan(ttl, Duration.millis(300))
      ? Effect.fail(ValidationError.invalidValue(HelpDoc.p("--lease-ttl must be at least 300ms")))
      : Effect.succeed(ttl)
  })
)

const time = () => new Date().toISOString().slice(11, 23)

const line = (event: FleetWorker.FleetEvent): string => {
  switch (event._tag) {
    case "Ready":
      return `worker ${event.owner.name} (${event.owner.host} pid ${event.owner.pid}) ready: up to ${event.owner.maxSessions} sessions`
    case "Claimed":
      return `claimed ${event.session.sessionId} (${event.session.mode})`
    case "Waiting":
      return `waiting ${event.sessionId}: ${event.question.replace(/\s+/g, " ").slice(0, 100)}`
    case "Released":
      return event.reason === "shutdown"
        ? `released ${event.sessionId}: handed back`
        : `released ${event.sessionId}: ${event.reason} (${event.detail.replace(/\s+/g, " ").slice(0, 200)})`
    case "Lost":
      return `lost ${event.sessionId}: ${event.reason}`
  }
}

/**
 * @since 0.1.0
 * @category commands
 */
export const worker = Command.make(
  "worker",
  {
    store: Shared.store,
    id: Options.text("id").pipe(
      Options.withDescription("This worker's name in `dabgent sessions` (default <host>-<pid>)."),
      Options.optional
    ),
    maxSessions: Options.integer("max-sessions").pipe(
      Options.withDescription("Sessions this worker runs at once at most (default 20)."),
      Options.withDefault(20)
    ),
    leaseTtl,
    model: Shared.model,
    baseUrl: Shared.baseUrl,
    workdir: Shared.workdir,
    sandbox: Shared.sandbox,
    allowNetwork: Shared.allowNetwork,
    validate: Shared.validate,
    parallel: Options.integer("parallel").pipe(
      Options.withDescription("For planner sessions: how many independent tasks run at once (default 4)."),
      Options.withDefault(4)
    ),
    json: Shared.json
  },
  (options) =>
    Effect.gen(function* () {
      const location = StoreLocation.parse(options.store)
      if (location._tag !== "Postgres") {
        return yield* new ExitCode({
          code: 2,
          message:
            "dabgent: a worker needs a postgres:// store (--store or DABGENT_DATABASE_URL) shared by the fleet"
        })
      }
      if (options.maxSessions < 1) {
        return yield* new ExitCode({ code: 2, message: "dabgent: --max-sessions must be at least 1" })
      }
      const host = hostname()
      const owner = new Owner({
        key: `${host}/${process.pid}/${randomBytes(4).toString("hex")}`,
        name: Option.getOrElse(options.id, () => `${host}-${process.pid}`),
        host,
        pid: process.pid,
        maxSessions: options.maxSessions
      })
      const label = `${owner.name}@${host} pid ${process.pid}`
      const overrides = { ...options, input: "none" as const }

      const serve = (session: FleetWorker.OpenSession) =>
        Effect.gen(function* () {
          const found = yield* Sessions.find(session.sessionId)
          if (Option.isNone(found)) {
            return yield* new ExitCode({ code: 2, message: `no session ${session.sessionId} in this store` })
          }
          const info = found.value
          if (info.progress.ended) return { _tag: "Ended", status: info.progress.status } as const
          const settings = {
            ...resumeSettings(info, overrides),
            store: location,
            json: false,
            worker: label
          }
          const resolved = yield* RunEnvironment.resolveModel(settings)
          const environment = RunEnvironment.sessionLayer(settings, resolved)
          if (info.started.mode === "plan") {
            const RunPlan = yield* Effect.promise(() => import("./RunPlan.js"))
            const summary = yield* RunPlan.serve(
              { ...settings, maxParallel: options.parallel, start: { _tag: "Resume" } },
              resolved
            ).pipe(Effect.provide(environment))
            return summary.status === "waiting"
              ? ({ _tag: "Waiting", question: summary.question?.question ?? "" } as const)
              : ({
                  _tag: "Ended",
                  status: `${summary.status}${summary.outcome === undefined ? "" : `: ${summary.outcome}`}`
                } as const)
          }
          const summary = yield* RunThread.serve({ ...settings, start: { _tag: "Resume" } }, resolved).pipe(
            Effect.provide(environment)
          )
          return summary.status === "UserWait"
            ? ({ _tag: "Waiting", question: summary.message } as const)
            : ({ _tag: "Ended", status: summary.status } as const)
        })

      const report = (event: FleetWorker.FleetEvent) =>
        options.json
          ? Console.log(JSON.stringify({ time: new Date().toISOString(), ...event }))
          : Console.log(`${time()} ${line(event)}`)

      const fleet = Layer.mergeAll(StoreLocation.layer(location), PgLeases.layer({ url: location.url }))
      yield* Effect.scoped(
        FleetWorker.run({
          owner,
          streamId: defaultStreamId,
          leaseTtl: options.leaseTtl,
          serve,
          report
        })
      ).pipe(
        Effect.provide(fleet),
        Effect.mapError((error) => new ExitCode({ code: 2, message: `dabgent: ${error.message}` }))
      )
    })
).pipe(
  Command.withDescription(
    "Run sessions submitted with --detach, as one worker of a fleet sharing a postgres:// store; SIGTERM hands them back."
  )
)
