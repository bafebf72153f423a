/**
 * `dabgent thread "<prompt>"`: one agent thread on the prompt, until `done` is accepted.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { resolve } from "node:path"
import { newSessionId } from "../DabgentAgent.js"
import * as Shared from "./options.js"
import * as RunThread from "./RunThread.js"
import * as StoreLocation from "./StoreLocation.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const thread = Command.make(
  "thread",
  {
    prompt: Args.text({ name: "prompt" }).pipe(Args.withDescription("What the agent should do.")),
    workdir: Shared.workdir,
    store: Shared.store,
    model: Shared.model,
    baseUrl: Shared.baseUrl,
    maxSteps: Shared.maxSteps,
    validate: Shared.validate,
    sandbox: Shared.sandbox,
    allowNetwork: Shared.allowNetwork,
    input: Shared.input,
    json: Shared.json
  },
  (options) =>
    Effect.suspend(() =>
      RunThread.run({
        sessionId: newSessionId(),
        store: StoreLocation.parse(options.store),
        model: options.model,
        baseUrl: options.baseUrl,
        workdir: resolve(Option.getOrElse(options.workdir, () => process.cwd())),
        sandbox: options.sandbox,
        allowNetwork: options.allowNetwork,
        validate: options.validate,
        maxSteps: Option.getOrElse(options.maxSteps, () => 50),
        json: options.json,
        input: options.input,
        start: { _tag: "New", prompt: options.prompt }
      })
    )
).pipe(
  Command.withDescription("Run one agent thread on a prompt until it calls done and the validator accepts.")
)
