/**
 * The event store: contract, errors and layers.
 *
 * @since 0.1.0
 */
export * from "./EventStore.js"
export * from "./EventStoreError.js"
export * from "./StoredEvent.js"
