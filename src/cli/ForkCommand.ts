/**
 * `dabgent fork <session> --at <sequence>`: a new session whose log is the original's up to that
 * stream sequence; `dabgent resume <new>` continues it on another path while the original stays
 * as it was. See `SessionFork` for what is copied and what an interrupted fork leaves.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as EventCodec from "../events/EventCodec.js"
import { SessionEvents } from "../events/SessionEvents.js"
import { ExitCode } from "./ExitCode.js"
import * as Shared from "./options.js"
import * as SessionFork from "./SessionFork.js"
import * as SessionHistory from "./SessionHistory.js"
import * as StoreLocation from "./StoreLocation.js"

const sessionCodec = EventCodec.make(SessionEvents)

/** The workdir the fork will resume in: the latest one its copied session records name. */
const workdirOf = (history: SessionHistory.SessionHistory, at: number) =>
  Effect.map(
    Effect.forEach(
      history.events.filter((event) => event.sequence <= at && sessionCodec.knows(event.type)),
      (event) => sessionCodec.decode(event)
    ),
    (records) => records.at(-1)?.event.workdir
  )

/**
 * @since 0.1.0
 * @category commands
 */
export const fork = Command.make(
  "fork",
  {
    session: Args.text({ name: "session" }).pipe(
      Args.withDescription("The session to fork, e.g. t-1a2b3c4d.")
    ),
    at: Options.integer("at").pipe(
      Options.withDescription(
        "Copy the session's events up to this stream sequence, inclusive (the #n that `dabgent events` shows)."
      )
    ),
    store: Shared.store,
    json: Options.boolean("json").pipe(Options.withDescription("Print the new session as one JSON object."))
  },
  ({ session, at, store, json }) =>
    SessionHistory.withSession(session, StoreLocation.parse(store), (history) =>
      Effect.gen(function* () {
        if (at < history.firstSequence || at > history.lastSequence) {
          return yield* new ExitCode({
            code: 2,
            message: `dabgent: --at ${at} is outside session ${session} (#${history.firstSequence} to #${history.lastSequence})`
          })
        }
        const workdir = yield* workdirOf(history, at)
        const forked = yield* SessionFork.fork(history, at)
        if (json) {
          yield* Console.log(JSON.stringify(forked))
          return
        }
        yield* Console.log(
          `forked ${session} at #${at} into ${forked.sessionId} (${forked.events} events copied)\ncontinue with: dabgent resume ${forked.sessionId}`
        )
        if (workdir !== undefined) {
          yield* Console.error(
            `note: the fork records the same workdir (${workdir}); files there are not rewound. ` +
              `To continue elsewhere: dabgent resume ${forked.sessionId} --workdir <dir>`
          )
        }
      })
    )
).pipe(
  Command.withDescription(
    "Copy a session's log up to a sequence into a new session, to resume it on a different path (time travel)."
  )
)
