/**
 * `dabgent answer <session> "<text>"`: answer the question a session waits on (a run that
 * stopped with exit code 3); `dabgent resume <session>` then goes on. The answer goes to the
 * session's oldest open question, whichever thread (or, in a planner session, whichever
 * clarification task) asked it.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { answerQuestion, NoOpenQuestion } from "../DabgentAgent.js"
import * as PgLeases from "../fleet/PgLeases.js"
import { ExitCode } from "./ExitCode.js"
import * as Shared from "./options.js"
import * as RunThread from "./RunThread.js"
import * as Sessions from "./Sessions.js"
import * as StoreLocation from "./StoreLocation.js"

const usageError = (message: string) => new ExitCode({ code: 2, message: `dabgent: ${message}` })

/**
 * Answers the session's oldest open question; the question, when known. A planner session
 * (recorded with mode `plan`) is answered by the planner, loaded only for such a session: its
 * clarification tasks wait in the planner, not in a thread. Any other session is answered
 * through its threads (also sessions started from the API, which record no session events).
 */
const answerSession = (sessionId: string, text: string) =>
  Effect.gen(function* () {
    const found = yield* Sessions.find(sessionId)
    if (Option.isSome(found) && found.value.started.mode === "plan") {
      const Planning = yield* Effect.promise(() => import("../coordinator/Planning.js"))
      const answered = yield* Planning.answer(sessionId, text)
      if (!answered) return yield* new NoOpenQuestion({ sessionId })
      return Option.none<string>()
    }
    const answered = yield* answerQuestion(sessionId, text)
    return Option.some(answered.question)
  })

/**
 * @since 0.1.0
 * @category commands
 */
export const answer = Command.make(
  "answer",
  {
    session: Args.text({ name: "session" }).pipe(Args.withDescription("The waiting session.")),
    text: Args.text({ name: "text" }).pipe(Args.withDescription("Your answer to its question.")),
    store: Shared.store
  },
  ({ session, text, store }) =>
    Effect.gen(function* () {
      const location = StoreLocation.parse(store)
      if (text.trim() === "") return yield* usageError("the answer is empty")
      const question = yield* answerSession(session, text).pipe(
        Effect.provide(StoreLocation.layer(location)),
        Effect.catchTags({
          SessionNotFound: () =>
            Effect.fail(usageError(`no session ${session} in ${StoreLocation.describe(location)}`)),
          NoOpenQuestion: (error) => Effect.fail(usageError(error.message)),
          StoreError: (error) => Effect.fail(usageError(error.message)),
          DecodeError: (error) =>
            Effect.fail(new ExitCode({ code: 1, message: `dabgent: ${error.message}` })),
          ConcurrencyError: (error) =>
            Effect.fail(new ExitCode({ code: 1, message: `dabgent: ${error.message}` }))
        })
      )
      if (Option.isSome(question)) yield* Console.error(`question: ${question.value}`)
      // A session a fleet worker holds goes on by itself once the answer is in the log.
      const owner =
        location._tag === "Postgres"
          ? yield* PgLeases.readOnly({ url: location.url }).pipe(
              Effect.map((fleet) => fleet.leases.find((lease) => lease.sessionId === session)?.owner),
              Effect.orElseSucceed(() => undefined)
            )
          : undefined
      yield* Console.log(
        owner === undefined
          ? `answered; continue with: dabgent resume ${session}${RunThread.storeFlag(location)}`
          : `answered; worker ${owner.name} (${owner.host} pid ${owner.pid}) continues the session`
      )
    })
).pipe(
  Command.withDescription(
    "Answer the question a session waits for (the run stopped with exit code 3), then continue it with resume."
  )
)
