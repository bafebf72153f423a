/**
 * `dabgent thread "<prompt>"`: one agent thread on the prompt, until `done` is accepted.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Effect from "effect/Effect"
import { newSessionId } from "../DabgentAgent.js"
import * as Shared from "./options.js"
import * as RunThread from "./RunThread.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const thread = Command.make(
  "thread",
  {
    prompt: Args.text({ name: "prompt" }).pipe(Args.withDescription("What the agent should do.")),
    ...Shared.runOptions
  },
  (options) =>
    Effect.suspend(() =>
      RunThread.run({
        sessionId: newSessionId(),
        ...Shared.runSettings(options),
        start: { _tag: "New", prompt: options.prompt }
      })
    )
).pipe(
  Command.withDescription("Run one agent thread on a prompt until it calls done and the validator accepts.")
)
