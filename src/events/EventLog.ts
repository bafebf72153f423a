/**
 * The typed view of the event store: domain events in, domain events out, through a codec.
 *
 * `read` / `subscribe` stop at the first event that does not decode (a `DecodeError` naming
 * it). `readEither` / `subscribeEither` hand such events to the caller as `Left` and go on, so
 * skipping is a decision the reader makes and sees, never a silent drop. Events of families the
 * codec does not know are not this log's business and are passed over.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import type * as ParseResult from "effect/ParseResult"
import * as Stream from "effect/Stream"
import type { EventStore } from "../store/EventStore.js"
import type { ConcurrencyError, DecodeError, StoreError } from "../store/EventStoreError.js"
import type {
  AppendResult,
  EventMetadata,
  EventQuery,
  ExpectedVersion,
  StoredEvent
} from "../store/StoredEvent.js"
import * as Attributes from "../telemetry/Attributes.js"
import * as Metrics from "../telemetry/Metrics.js"
import type { Decoded, EventCodec } from "./EventCodec.js"
import type * as EventFamily from "./EventFamily.js"
import { sessionOf } from "./SessionEvents.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface AppendOptions<E> {
  readonly streamId: string
  readonly aggregateId: string
  readonly events: ReadonlyArray<E>
  readonly expectedVersion?: ExpectedVersion
  readonly metadata?: EventMetadata
}

/**
 * @since 0.1.0
 * @category models
 */
export interface EventLog<F extends EventFamily.EventFamily.Any> {
  readonly codec: EventCodec<F>
  readonly append: <G extends F>(
    family: G,
    options: AppendOptions<EventFamily.EventFamily.Event<G>>
  ) => Effect.Effect<AppendResult, ConcurrencyError | StoreError | ParseResult.ParseError>
  readonly read: (query: EventQuery) => Stream.Stream<Decoded<F>, StoreError | DecodeError>
  readonly subscribe: (query: EventQuery) => Stream.Stream<Decoded<F>, StoreError | DecodeError>
  readonly readEither: (
    query: EventQuery
  ) => Stream.Stream<Either.Either<Decoded<F>, DecodeError>, StoreError>
  readonly subscribeEither: (
    query: EventQuery
  ) => Stream.Stream<Either.Either<Decoded<F>, DecodeError>, StoreError>
}

/**
 * Decodes the events of a chunk the codec knows, synchronously, as one chunk; the first that
 * does not decode fails it.
 *
 * @since 0.1.0
 * @category decoding
 */
export const decodeChunk = <F extends EventFamily.EventFamily.Any>(
  codec: EventCodec<F>,
  chunk: Chunk.Chunk<StoredEvent>
): Effect.Effect<Chunk.Chunk<Decoded<F>>, DecodeError> => {
  const decoded: Array<Decoded<F>> = []
  for (const stored of chunk) {
    if (!codec.knows(stored.type)) continue
    const result = codec.decodeEither(stored)
    if (Either.isLeft(result)) return Effect.fail(result.left)
    decoded.push(result.right)
  }
  return Effect.succeed(Chunk.unsafeFromArray(decoded))
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <F extends EventFamily.EventFamily.Any>(
  store: EventStore["Type"],
  codec: EventCodec<F>
): EventLog<F> => {
  const ours = (stored: StoredEvent) => codec.knows(stored.type)

  const append = <G extends F>(family: G, options: AppendOptions<EventFamily.EventFamily.Event<G>>) =>
    Effect.flatMap(
      Effect.forEach(options.events, (event) => codec.encode(family, event)),
      (events) =>
        store.append({
          streamId: options.streamId,
          aggregateId: options.aggregateId,
          events,
          ...(options.expectedVersion === undefined ? {} : { expectedVersion: options.expectedVersion }),
          ...(options.metadata === undefined ? {} : { metadata: options.metadata })
        })
    ).pipe(
      Effect.tap(() => Metrics.countAppended(family.name, options.events.length)),
      Effect.withSpan("EventLog.append", {
        attributes: {
          [Attributes.sessionId]: sessionOf(options.aggregateId),
          [Attributes.aggregateId]: options.aggregateId,
          [Attributes.events.family]: family.name,
          [Attributes.events.count]: options.events.length
        }
      })
    )

  // Decoded chunk by chunk: the events of one append arrive together, so a reader can act on
  // the state after the whole append rather than between its events.
  const typed = (stream: Stream.Stream<StoredEvent, StoreError | DecodeError>) =>
    stream.pipe(Stream.mapChunksEffect((chunk) => decodeChunk(codec, chunk)))

  /** Reopens the raw stream after a damaged row, reporting it as `Left`. */
  const tolerant = (
    open: (query: EventQuery) => Stream.Stream<StoredEvent, StoreError | DecodeError>,
    query: EventQuery
  ): Stream.Stream<Either.Either<Decoded<F>, DecodeError>, StoreError> =>
    open(query).pipe(
      Stream.filter(ours),
      Stream.mapEffect((stored) => Effect.either(codec.decode(stored))),
      Stream.catchTag("DecodeError", (damaged) =>
        Stream.concat(
          Stream.make(Either.left(damaged)),
          Stream.suspend(() => tolerant(open, { ...query, fromSequence: damaged.sequence }))
        )
      )
    )

  return {
    codec,
    append,
    read: (query) => typed(store.read(query)),
    subscribe: (query) => typed(store.subscribe(query)),
    readEither: (query) => tolerant(store.read, query),
    subscribeEither: (query) => tolerant(store.subscribe, query)
  }
}
