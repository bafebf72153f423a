/**
 * Answering the question a session waits on: what `dabgent answer` and the web UI's answer box
 * both do, so an answer is recorded the same way whichever asked for it.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import { answerQuestion, NoOpenQuestion, type SessionNotFound } from "../DabgentAgent.js"
import type { EventStore } from "../store/EventStore.js"
import type { ConcurrencyError, DecodeError, StoreError } from "../store/EventStoreError.js"
import * as Sessions from "./Sessions.js"

/**
 * Answers the session's oldest open question; the question, when known. A planner session
 * (recorded with mode `plan`) is answered by the planner, loaded only for such a session: its
 * clarification tasks wait in the planner, not in a thread. Any other session is answered
 * through its threads (also sessions started from the API, which record no session events).
 * When a running session's workers append meanwhile, the question is read again and the answer
 * appended again.
 *
 * @since 0.1.0
 * @category running
 */
export const answer = (
  sessionId: string,
  text: string
): Effect.Effect<
  Option.Option<string>,
  StoreError | DecodeError | ConcurrencyError | SessionNotFound | NoOpenQuestion,
  EventStore
> =>
  Effect.gen(function* () {
    const found = yield* Sessions.settings(sessionId)
    if (Option.isSome(found) && found.value.started.mode === "plan") {
      const Planning = yield* Effect.promise(() => import("../coordinator/Planning.js"))
      const answered = yield* Planning.answer(sessionId, text)
      if (!answered) return yield* new NoOpenQuestion({ sessionId })
      return Option.none<string>()
    }
    const answered = yield* answerQuestion(sessionId, text)
    return Option.some(answered.question)
  }).pipe(Effect.retry({ while: (error) => error._tag === "ConcurrencyError", times: 20 }))
