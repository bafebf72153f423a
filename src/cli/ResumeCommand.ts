/**
 * `dabgent resume <session>`: continue a session where it stopped, with its recorded model and
 * workdir unless overridden (API keys are never recorded: they come from the environment).
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { resolve } from "node:path"
import * as PgLeases from "../fleet/PgLeases.js"
import { ExitCode } from "./ExitCode.js"
import * as Shared from "./options.js"
import * as RunThread from "./RunThread.js"
import * as Sessions from "./Sessions.js"
import * as StoreLocation from "./StoreLocation.js"

/**
 * The settings a recorded session continues with: what it was started (or last resumed) with,
 * unless an option overrides it. Shared by `resume` and the fleet worker.
 *
 * @since 0.1.0
 * @category running
 */
export const resumeSettings = (
  info: Sessions.SessionInfo,
  overrides: {
    readonly model: Option.Option<string>
    readonly baseUrl: Option.Option<string>
    readonly workdir: Option.Option<string>
    readonly sandbox: Option.Option<"bwrap" | "local">
    readonly allowNetwork: boolean
    readonly validate: Option.Option<string>
    readonly input: Shared.InputMode
  }
) => {
  const recordedBaseUrl = info.latest.baseUrl === undefined ? Option.none() : Option.some(info.latest.baseUrl)
  return {
    sessionId: info.sessionId,
    model: Option.orElse(overrides.model, () => Option.some(info.latest.model)),
    baseUrl: Option.orElse(overrides.baseUrl, () => recordedBaseUrl),
    workdir: resolve(Option.getOrElse(overrides.workdir, () => info.latest.workdir)),
    sandbox: Option.orElse(overrides.sandbox, () => Option.some(info.latest.sandbox)),
    allowNetwork: overrides.allowNetwork || info.started.allowNetwork,
    validate: Option.orElse(overrides.validate, () =>
      info.started.validate === undefined ? Option.none() : Option.some(info.started.validate)
    ),
    maxSteps: info.started.maxSteps,
    input: overrides.input
  }
}

/**
 * @since 0.1.0
 * @category commands
 */
export const resume = Command.make(
  "resume",
  {
    session: Args.text({ name: "session" }),
    workdir: Shared.workdir,
    store: Shared.store,
    model: Shared.model,
    baseUrl: Shared.baseUrl,
    validate: Shared.validate,
    sandbox: Shared.sandbox,
    allowNetwork: Shared.allowNetwork,
    input: Shared.input,
    json: Shared.json,
    parallel: Options.integer("parallel").pipe(
      Options.withDescription("For planner sessions: how many independent tasks run at once (default 4)."),
      Options.withDefault(4)
    )
  },
  (options) =>
    Effect.gen(function* () {
      const location = StoreLocation.parse(options.store)
      const found = yield* Sessions.find(options.session).pipe(
        Effect.provide(StoreLocation.layer(location)),
        Effect.mapError((error) => new ExitCode({ code: 2, message: `dabgent: ${error.message}` }))
      )
      if (Option.isNone(found)) {
        return yield* new ExitCode({
          code: 2,
          message: `dabgent: no session ${options.session} in ${StoreLocation.describe(location)}`
        })
      }
      const info = found.value
      if (info.progress.ended) {
        yield* Console.log(`session ${info.sessionId} already ended: ${info.progress.status}`)
        if (info.progress.failed) return yield* new ExitCode({ code: 1, message: "" })
        return
      }
      if (location._tag === "Postgres") {
        // A fleet worker holds it: two runners would only repeat model calls (the log stays clean).
        const fleet = yield* PgLeases.readOnly({ url: location.url }).pipe(
          Effect.mapError((error) => new ExitCode({ code: 2, message: `dabgent: ${error.message}` }))
        )
        const lease = fleet.leases.find((l) => l.sessionId === info.sessionId)
        if (lease !== undefined) {
          return yield* new ExitCode({
            code: 2,
            message: `dabgent: session ${info.sessionId} is being run by worker ${lease.owner.name} (${lease.owner.host} pid ${lease.owner.pid}); stop that worker (SIGTERM hands it back) or let it finish`
          })
        }
      }
      const config = { ...resumeSettings(info, options), store: location, json: options.json }
      if (info.started.mode === "plan") {
        // The planner is loaded only for planner sessions.
        const RunPlan = yield* Effect.promise(() => import("./RunPlan.js"))
        return yield* RunPlan.run({ ...config, maxParallel: options.parallel, start: { _tag: "Resume" } })
      }
      yield* RunThread.run({ ...config, start: { _tag: "Resume" } })
    })
).pipe(
  Command.withDescription(
    "Continue a session after a crash, Ctrl-C or an answer (dabgent answer); a tool that was running is reported as interrupted."
  )
)
