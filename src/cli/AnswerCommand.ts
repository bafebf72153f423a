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
import * as PgLeases from "../fleet/PgLeases.js"
import { ExitCode } from "./ExitCode.js"
import * as Shared from "./options.js"
import * as RunThread from "./RunThread.js"
import * as SessionAnswer from "./SessionAnswer.js"
import * as StoreLocation from "./StoreLocation.js"

const usageError = (message: string) => new ExitCode({ code: 2, message: `dabgent: ${message}` })

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
      const question = yield* SessionAnswer.answer(session, text).pipe(
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
