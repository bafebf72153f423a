/**
 * The `session.*` events a CLI run records for its session: what was asked and with which
 * settings when it starts, and who continued it with which model when it is resumed. Shared by
 * thread and planning runs so both record a session the same way.
 *
 * @since 0.1.0
 */
import * as Option from "effect/Option"
import { SessionResumed, SessionStarted } from "../events/SessionEvents.js"
import * as ModelSpec from "../llm/ModelSpec.js"
import type * as Models from "../llm/Models.js"
import type { RunConfig } from "./RunThread.js"

type Settings = Pick<RunConfig, "workdir" | "allowNetwork" | "validate" | "maxSteps" | "detach" | "worker">

const modelOf = (resolved: Models.Resolved) => ({
  model: ModelSpec.format(resolved.spec),
  ...(resolved._tag === "OpenAiCompat" ? { baseUrl: resolved.baseUrl } : {})
})

/**
 * The start of a new session.
 *
 * @since 0.1.0
 * @category constructors
 */
export const started = (
  mode: "thread" | "plan",
  input: string,
  config: Settings,
  resolved: Models.Resolved,
  sandbox: "local" | "bwrap"
): SessionStarted =>
  new SessionStarted({
    mode,
    input,
    ...modelOf(resolved),
    workdir: config.workdir,
    sandbox,
    allowNetwork: config.allowNetwork,
    ...(Option.isSome(config.validate) ? { validate: config.validate.value } : {}),
    maxSteps: config.maxSteps,
    ...(config.detach === true ? { detached: true } : {})
  })

/**
 * The continuation of a recorded session (by `resume` or a fleet worker).
 *
 * @since 0.1.0
 * @category constructors
 */
export const resumed = (
  config: Settings,
  resolved: Models.Resolved,
  sandbox: "local" | "bwrap"
): SessionResumed =>
  new SessionResumed({
    ...modelOf(resolved),
    workdir: config.workdir,
    sandbox,
    ...(config.worker === undefined ? {} : { worker: config.worker })
  })
