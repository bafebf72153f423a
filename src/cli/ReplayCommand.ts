/**
 * `dabgent replay <session> [--until <sequence>]`: the state of every aggregate of a session,
 * folded from its log up to a stream sequence (default: all of it). Reads only.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { ExitCode } from "./ExitCode.js"
import * as Shared from "./options.js"
import * as SessionHistory from "./SessionHistory.js"
import * as SessionReplay from "./SessionReplay.js"
import * as StoreLocation from "./StoreLocation.js"

/**
 * @since 0.1.0
 * @category commands
 */
export const replay = Command.make(
  "replay",
  {
    session: Args.text({ name: "session" }).pipe(Args.withDescription("The session id, e.g. t-1a2b3c4d.")),
    until: Options.integer("until").pipe(
      Options.withDescription(
        "Replay up to this stream sequence, inclusive (the #n that `dabgent events` shows); default: all."
      ),
      Options.optional
    ),
    store: Shared.store,
    json: Options.boolean("json").pipe(Options.withDescription("Print the folded state as one JSON object."))
  },
  ({ session, until, store, json }) =>
    SessionHistory.withSession(session, StoreLocation.parse(store), (history) =>
      Effect.gen(function* () {
        const point = Option.getOrElse(until, () => history.lastSequence)
        if (point < history.firstSequence) {
          return yield* new ExitCode({
            code: 2,
            message: `dabgent: --until ${point} is before the first event of session ${session} (#${history.firstSequence})`
          })
        }
        const replayed = yield* SessionReplay.replay(history, point)
        if (json) yield* Console.log(JSON.stringify(SessionReplay.toJson(replayed)))
        else
          yield* Effect.forEach(SessionReplay.render(replayed), (line) => Console.log(line), {
            discard: true
          })
      })
    )
).pipe(
  Command.withDescription(
    "Fold a session's log up to a sequence and print the state there: status, steps, tokens, pending tools, questions, tasks."
  )
)
