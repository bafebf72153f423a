/**
 * What the log holds: one committed event with its position.
 *
 * @since 0.1.0
 */

/**
 * Free-form metadata stored beside an event. `correlationId` ties every event of one session
 * together; `causationId` names the event that led to this one.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventMetadata {
  readonly correlationId?: string
  readonly causationId?: string
  readonly [key: string]: unknown
}

/**
 * An event as committed. `sequence` counts per stream (1, 2, 3 … with no gaps, visible in
 * order); `version` counts per aggregate within the stream.
 *
 * @since 0.1.0
 * @category models
 */
export interface StoredEvent {
  readonly streamId: string
  readonly aggregateId: string
  readonly sequence: number
  readonly version: number
  readonly type: string
  readonly data: unknown
  readonly metadata: EventMetadata
  readonly createdAt: Date
}

/**
 * An event to append: its type (e.g. `thread.Prompted`) and JSON-encodable data.
 *
 * @since 0.1.0
 * @category models
 */
export interface NewEvent {
  readonly type: string
  readonly data: unknown
}

/**
 * The version an append expects the aggregate to be at: its current version (0 when the
 * aggregate is new), or `"any"` to skip the check.
 *
 * @since 0.1.0
 * @category models
 */
export type ExpectedVersion = number | "any"

/**
 * @since 0.1.0
 * @category models
 */
export interface AppendRequest {
  readonly streamId: string
  readonly aggregateId: string
  readonly events: ReadonlyArray<NewEvent>
  /** Defaults to `"any"`. */
  readonly expectedVersion?: ExpectedVersion
  /** Stored with every event of this append. */
  readonly metadata?: EventMetadata
}

/**
 * Where an append landed: the stream sequences it took and the aggregate's new version.
 *
 * @since 0.1.0
 * @category models
 */
export interface AppendResult {
  readonly firstSequence: number
  readonly lastSequence: number
  readonly version: number
}

/**
 * Selects events of one stream. Filters combine with AND; `fromSequence` is exclusive
 * (events with a greater sequence), so a reader resumes from the last sequence it saw.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventQuery {
  readonly streamId: string
  readonly aggregateId?: string
  /** Every aggregate whose id starts with this prefix, e.g. a whole session `s1/`. */
  readonly aggregatePrefix?: string
  readonly types?: ReadonlyArray<string>
  readonly fromSequence?: number
}

/**
 * Does an event match a query's filters (not its `fromSequence`)?
 *
 * @since 0.1.0
 * @category filtering
 */
export const matchesQuery = (query: EventQuery, event: Pick<StoredEvent, "aggregateId" | "type">): boolean =>
  (query.aggregateId === undefined || event.aggregateId === query.aggregateId) &&
  (query.aggregatePrefix === undefined || event.aggregateId.startsWith(query.aggregatePrefix)) &&
  (query.types === undefined || query.types.includes(event.type))
