/**
 * `dabgent events <session>`: the stored events of one session, oldest first.
 *
 * @since 0.1.0
 */
import * as Args from "@effect/cli/Args"
import * as Command from "@effect/cli/Command"
import * as Options from "@effect/cli/Options"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { EventStore } from "../store/EventStore.js"
import type { StoredEvent } from "../store/StoredEvent.js"
import * as SharedOptions from "./options.js"
import * as StoreLocation from "./StoreLocation.js"

const shorten = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text)

const line = (event: StoredEvent): string =>
  `#${event.sequence}  ${event.createdAt.toISOString()}  ${event.aggregateId} v${event.version}  ${event.type}  ${shorten(
    JSON.stringify(event.data),
    160
  )}`

/**
 * @since 0.1.0
 * @category commands
 */
export const events = Command.make(
  "events",
  {
    session: Args.text({ name: "session" }).pipe(
      Args.withDescription(
        "The session id (an aggregate id, or the prefix of a planner session's aggregates)."
      ),
      Args.optional
    ),
    all: Options.boolean("all").pipe(Options.withDescription("Every event of the stream, of every session.")),
    store: SharedOptions.store,
    json: SharedOptions.json
  },
  ({ session, all, store, json }) =>
    Effect.gen(function* () {
      const eventStore = yield* EventStore
      const query =
        all || session._tag === "None"
          ? { streamId: StoreLocation.defaultStreamId }
          : { streamId: StoreLocation.defaultStreamId, aggregatePrefix: session.value }
      const selected = eventStore
        .read(query)
        .pipe(
          Stream.filter(
            (event) =>
              all ||
              session._tag === "None" ||
              event.aggregateId === session.value ||
              event.aggregateId.startsWith(`${session.value}/`)
          )
        )
      yield* Stream.runForEach(selected, (event) => Console.log(json ? JSON.stringify(event) : line(event)))
    }).pipe(Effect.provide(StoreLocation.layer(StoreLocation.parse(store))))
).pipe(Command.withDescription("Print the stored events of a session (or of the whole log with --all)."))
