/**
 * The Thread aggregate: one agent working on one prompt until `done` is accepted.
 *
 * @since 0.1.0
 */
export * from "./JsonValue.js"
export * from "./ThreadCommand.js"
export * from "./ThreadCompaction.js"
export * from "./ThreadError.js"
export * from "./ThreadEvent.js"
export * from "./ThreadHandler.js"
export * from "./ThreadState.js"
