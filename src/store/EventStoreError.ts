/**
 * The ways an event store can fail, as data.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * An append expected the aggregate at one version and found it at another: somebody else
 * appended first. Refold and decide again.
 *
 * @since 0.1.0
 * @category errors
 */
export class ConcurrencyError extends Schema.TaggedError<ConcurrencyError>()("ConcurrencyError", {
  streamId: Schema.String,
  aggregateId: Schema.String,
  expected: Schema.Number,
  actual: Schema.Number
}) {
  override get message(): string {
    return `aggregate ${this.aggregateId} in stream ${this.streamId} is at version ${this.actual}, expected ${this.expected}`
  }
}

/**
 * The backing database failed (connection lost, disk full, bad request). `operation` names
 * what the store was doing.
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreError extends Schema.TaggedError<StoreError>()("StoreError", {
  operation: Schema.String,
  reason: Schema.String,
  cause: Schema.optional(Schema.Defect)
}) {
  override get message(): string {
    return `event store ${this.operation} failed: ${this.reason}`
  }
}

/**
 * A stored event could not be decoded. It names the event, so a reader can stop, or skip it
 * explicitly by resuming after `sequence`; nothing is dropped silently.
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Schema.TaggedError<DecodeError>()("DecodeError", {
  streamId: Schema.String,
  sequence: Schema.Number,
  type: Schema.String,
  reason: Schema.String
}) {
  override get message(): string {
    return `cannot decode event ${this.type} at ${this.streamId}#${this.sequence}: ${this.reason}`
  }
}
