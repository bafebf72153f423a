/**
 * Event families, the codec between domain events and stored events, and the typed log.
 *
 * @since 0.1.0
 */
export * as EventCodec from "./EventCodec.js"
export * as EventFamily from "./EventFamily.js"
export * as EventLog from "./EventLog.js"
export { ThreadEvents } from "./ThreadEvents.js"
export * from "./SessionEvents.js"
