/**
 * dabgent: an event-sourced runtime for LLM coding agents, built on Effect.
 *
 * The public API. The planner is opt-in: `import ... from "dabgent/planner"`.
 *
 * @since 0.1.0
 */
export * as Handler from "./Handler.js"

export { EventStore, layerMemory, makeMemory } from "./store/EventStore.js"
export * from "./store/EventStoreError.js"
export * from "./store/StoredEvent.js"
export * as PgEventStore from "./store/PgEventStore.js"
export * as SqliteEventStore from "./store/SqliteEventStore.js"

export * from "./thread/index.js"

export { EventCodec, EventFamily, EventLog, ThreadEvents } from "./events/index.js"

export * from "./DabgentAgent.js"
export * as Models from "./llm/Models.js"
export * as ModelSpec from "./llm/ModelSpec.js"
export * as Sandbox from "./sandbox/Sandbox.js"
export * from "./sandbox/SandboxError.js"
export * as Validator from "./tools/Validator.js"
export { AgentTools, ToolRunner } from "./tools/index.js"
export { SessionEvents, SessionStarted, SessionResumed } from "./events/SessionEvents.js"
export * as Clarifier from "./coordinator/Clarifier.js"
export * as Telemetry from "./telemetry/Telemetry.js"
export * as TelemetryMetrics from "./telemetry/Metrics.js"
export * as TelemetryAttributes from "./telemetry/Attributes.js"
