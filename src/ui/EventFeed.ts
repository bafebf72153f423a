/**
 * Live feeds for the web UI as Server-Sent Events, fed by `EventStore.subscribe` (catch-up, then
 * live; the page never polls): one session's events, and a light notice per event of the whole
 * stream for the sessions list. Each message carries its stream sequence as the SSE `id`, so a
 * browser that reconnects sends `Last-Event-ID` and resumes after it; a comment line goes out
 * every `heartbeat` so proxies and browsers keep an idle connection open. When the client leaves,
 * the server interrupts the response and the subscription closes with it.
 *
 * @since 0.1.0
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Chunk from "effect/Chunk"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { sessionOf } from "../events/SessionEvents.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import type { StoredEvent } from "../store/StoredEvent.js"
import { inSession } from "../workers/ThreadSource.js"

/**
 * A stored event as the API sends it (JSON, `createdAt` as an ISO string).
 *
 * @since 0.1.0
 * @category models
 */
export interface EventJson {
  readonly sequence: number
  readonly aggregateId: string
  readonly version: number
  readonly type: string
  readonly data: unknown
  readonly metadata: unknown
  readonly createdAt: string
}

/**
 * @since 0.1.0
 * @category encoding
 */
export const toJson = (event: StoredEvent): EventJson => ({
  sequence: event.sequence,
  aggregateId: event.aggregateId,
  version: event.version,
  type: event.type,
  data: event.data,
  metadata: event.metadata,
  createdAt: event.createdAt.toISOString()
})

/**
 * What the sessions-list feed says of each event: which session moved, and how.
 *
 * @since 0.1.0
 * @category models
 */
export interface ChangeNotice {
  readonly sessionId: string
  readonly aggregateId: string
  readonly sequence: number
  readonly type: string
}

/**
 * One Server-Sent Events message.
 *
 * @since 0.1.0
 * @category models
 */
export interface Message {
  readonly id?: number
  readonly event: string
  readonly data: unknown
}

/**
 * The wire form of a message; `JSON.stringify` never emits a newline, so `data` is one line.
 *
 * @since 0.1.0
 * @category encoding
 */
export const encode = (message: Message): string =>
  `${message.id === undefined ? "" : `id: ${message.id}\n`}event: ${message.event}\ndata: ${JSON.stringify(message.data)}\n\n`

/**
 * @since 0.1.0
 * @category models
 */
export interface FeedOptions {
  /** Time between keep-alive comments. */
  readonly heartbeat: Duration.DurationInput
}

const encoder = new TextEncoder()

/**
 * An SSE response of `messages`: a first comment at once (so the browser sees the stream open
 * even when nothing happens), the messages, a heartbeat comment on every tick. A failure of the
 * source is sent as an `error` message and ends the response; the browser then reconnects with
 * the last id it received.
 *
 * @since 0.1.0
 * @category responses
 */
export const respond = (
  messages: Stream.Stream<Message, StoreError | DecodeError>,
  options: FeedOptions
): HttpServerResponse.HttpServerResponse => {
  const body = messages.pipe(
    Stream.map(encode),
    Stream.catchAll((error) =>
      Stream.make(encode({ event: "error", data: { error: error._tag, message: error.message } }))
    ),
    Stream.merge(
      Stream.tick(Duration.decode(options.heartbeat)).pipe(Stream.drop(1), Stream.as(": heartbeat\n\n")),
      {
        haltStrategy: "left"
      }
    ),
    Stream.prepend(Chunk.of(": connected\nretry: 2000\n\n")),
    Stream.map((text) => encoder.encode(text))
  )
  return HttpServerResponse.stream(body, {
    contentType: "text/event-stream",
    headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
  })
}

/**
 * Every event of one session after `after`, then each new one as it is committed.
 *
 * @since 0.1.0
 * @category feeds
 */
export const sessionEvents = (
  streamId: string,
  sessionId: string,
  after: number
): Stream.Stream<Message, StoreError | DecodeError, EventStore> =>
  Stream.unwrap(
    Effect.map(EventStore, (store) =>
      store.subscribe({ streamId, aggregatePrefix: sessionId, fromSequence: after }).pipe(
        Stream.filter((event) => inSession(sessionId, event.aggregateId)),
        Stream.map((event): Message => ({ id: event.sequence, event: "stored", data: toJson(event) }))
      )
    )
  )

/**
 * A notice per event of the stream after `after` (by default after the current head, so only
 * what happens from now on).
 *
 * @since 0.1.0
 * @category feeds
 */
export const changes = (
  streamId: string,
  after: number | undefined
): Stream.Stream<Message, StoreError | DecodeError, EventStore> =>
  Stream.unwrap(
    Effect.gen(function* () {
      const store = yield* EventStore
      const from = after ?? (yield* store.head(streamId))
      return store.subscribe({ streamId, fromSequence: from }).pipe(
        Stream.map((event): Message => ({
          id: event.sequence,
          event: "change",
          data: {
            sessionId: sessionOf(event.aggregateId),
            aggregateId: event.aggregateId,
            sequence: event.sequence,
            type: event.type
          } satisfies ChangeNotice
        }))
      )
    })
  )
