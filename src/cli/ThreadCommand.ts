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
    ...Shared.runOptions,
    detach: Shared.detach
  },
  (options) =>
    Effect.suspend(() => {
      const settings = Shared.runSettings(options)
      return Effect.zipRight(
        Shared.checkDetach(options.detach, settings.store),
        RunThread.run({
          sessionId: newSessionId(),
          ...settings,
          start: { _tag: "New", prompt: options.prompt },
          detach: options.detach
        })
      )
    })
).pipe(
  Command.withDescription("Run one agent thread on a prompt until it calls done and the validator accepts.")
)
