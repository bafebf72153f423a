/**
 * The append-only event log every part of dabgent writes to and reads from.
 *
 * One contract, three layers: `EventStore.layerMemory` (tests, embedding),
 * `SqliteEventStore.layer` (the embedded default) and `PgEventStore.layer` (teams and scale).
 * All three pass the same conformance suite.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Stream from "effect/Stream"
import type { ConcurrencyError, DecodeError, StoreError } from "./EventStoreError.js"
import * as Memory from "./internal/memory.js"
import type { AppendRequest, AppendResult, EventQuery, StoredEvent } from "./StoredEvent.js"

/**
 * @since 0.1.0
 * @category tags
 */
export class EventStore extends Context.Tag("dabgent/EventStore")<
  EventStore,
  {
    /**
     * Appends one aggregate's events atomically. With a numeric `expectedVersion`, fails with
     * `ConcurrencyError` unless the aggregate is at exactly that version.
     */
    readonly append: (request: AppendRequest) => Effect.Effect<AppendResult, ConcurrencyError | StoreError>
    /** The events matching `query` that are committed now, in sequence order; then ends. */
    readonly read: (query: EventQuery) => Stream.Stream<StoredEvent, StoreError | DecodeError>
    /**
     * Catch-up, then live: every matching event, committed now or later, in sequence order,
     * with no gaps or repeats. Never ends by itself.
     */
    readonly subscribe: (query: EventQuery) => Stream.Stream<StoredEvent, StoreError | DecodeError>
    /** The last committed sequence of a stream (0 when empty). */
    readonly head: (streamId: string) => Effect.Effect<number, StoreError>
  }
>() {
  /** An in-memory store (also exported as `layerMemory`), so `EventStore.layerMemory` reads naturally. */
  static get layerMemory(): Layer.Layer<EventStore> {
    return layerMemory
  }
}

/**
 * An in-memory store for tests and embedding; nothing survives the process.
 *
 * @since 0.1.0
 * @category constructors
 */
export const makeMemory: Effect.Effect<EventStore["Type"]> = Effect.sync(Memory.make)

/**
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<EventStore> = Layer.effect(EventStore, makeMemory)
