/**
 * Replaying a session: every aggregate of it folded with its own handler up to a stream sequence,
 * and that state shown to a person or as JSON. Time travel for reading: nothing is written.
 *
 * Thread events fold with the thread handler and session records into a `SessionRecord`; planner
 * events need the planner, which is loaded with a dynamic `import()` only when the session has
 * any, so thread-only use never loads it.
 *
 * @since 0.1.0
 */
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as EventCodec from "../events/EventCodec.js"
import { SessionEvents, type SessionResumed, type SessionStarted } from "../events/SessionEvents.js"
import { ThreadEvents } from "../events/ThreadEvents.js"
import * as Handler from "../Handler.js"
import type { PlannerState, Task } from "../planner/PlannerState.js"
import type { DecodeError } from "../store/EventStoreError.js"
import type { StoredEvent } from "../store/StoredEvent.js"
import { threadHandler } from "../thread/ThreadHandler.js"
import { pendingCalls, type ThreadState, type ToolCallState } from "../thread/ThreadState.js"
import type { SessionHistory } from "./SessionHistory.js"

/**
 * What a session's own aggregate (`<session>/session`) records: how it was started and every
 * resume since.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionRecord {
  readonly started: SessionStarted | undefined
  readonly resumed: ReadonlyArray<SessionResumed>
}

/**
 * Where an aggregate stands in the log at the replayed point.
 *
 * @since 0.1.0
 * @category models
 */
export interface Position {
  readonly aggregateId: string
  /** The aggregate's version after the last replayed event. */
  readonly version: number
  /** The stream sequence of the last replayed event. */
  readonly lastSequence: number
  /** How many events were folded. */
  readonly events: number
}

/**
 * One folded aggregate, by the family of its events. Events of a family this program does not
 * know are counted, not folded, and never dropped from view.
 *
 * @since 0.1.0
 * @category models
 */
export type AggregateReplay =
  | (Position & { readonly family: "thread"; readonly state: ThreadState })
  | (Position & { readonly family: "planner"; readonly state: PlannerState })
  | (Position & { readonly family: "session"; readonly state: SessionRecord })
  | (Position & { readonly family: "other"; readonly types: ReadonlyArray<string> })

/**
 * Where a forked session came from, as `fork` records it in every copied event's metadata.
 *
 * @since 0.1.0
 * @category models
 */
export const ForkOrigin = Schema.Struct({ session: Schema.String, sequence: Schema.Number })

/**
 * @since 0.1.0
 * @category models
 */
export type ForkOrigin = typeof ForkOrigin.Type

/**
 * A session folded up to a stream sequence.
 *
 * @since 0.1.0
 * @category models
 */
export interface SessionReplay {
  readonly sessionId: string
  /** The sequence replayed to: `--until`, or the session's latest when that is earlier. */
  readonly until: number
  /** The session's latest sequence in the store. */
  readonly latestSequence: number
  /** Events replayed, of `totalEvents`. */
  readonly events: number
  readonly totalEvents: number
  /** Set when the session is a fork of another. */
  readonly forkedFrom: ForkOrigin | undefined
  /** In the order of each aggregate's first event. */
  readonly aggregates: ReadonlyArray<AggregateReplay>
}

const threadCodec = EventCodec.make(ThreadEvents)
const sessionCodec = EventCodec.make(SessionEvents)

const familyOf = (type: string): string => {
  const dot = type.indexOf(".")
  return dot > 0 ? type.slice(0, dot) : type
}

interface Group {
  readonly aggregateId: string
  readonly family: string
  readonly events: Array<StoredEvent>
}

/** The events of each (aggregate, family), in the order of their first event. */
const groupsOf = (events: ReadonlyArray<StoredEvent>): ReadonlyArray<Group> => {
  const groups = new Map<string, Group>()
  for (const event of events) {
    const family = familyOf(event.type)
    const key = `${event.aggregateId}\u0000${family}`
    const group = groups.get(key)
    if (group === undefined) groups.set(key, { aggregateId: event.aggregateId, family, events: [event] })
    else group.events.push(event)
  }
  return Array.from(groups.values())
}

type PlannerModule = typeof import("./PlannerReplay.js")

const foldGroup = (
  group: Group,
  planner: PlannerModule | undefined
): Effect.Effect<AggregateReplay, DecodeError> => {
  const last = group.events[group.events.length - 1]
  const position: Position = {
    aggregateId: group.aggregateId,
    version: last?.version ?? 0,
    lastSequence: last?.sequence ?? 0,
    events: group.events.length
  }
  switch (group.family) {
    case "thread":
      return Effect.map(
        Effect.forEach(group.events, (stored) => threadCodec.decode(stored)),
        (decoded): AggregateReplay => ({
          ...position,
          family: "thread",
          state: Handler.fold(
            threadHandler,
            decoded.map((d) => d.event)
          )
        })
      )
    case "session":
      return Effect.map(
        Effect.forEach(group.events, (stored) => sessionCodec.decode(stored)),
        (decoded): AggregateReplay => {
          let started: SessionStarted | undefined
          const resumed: Array<SessionResumed> = []
          for (const { event } of decoded) {
            if (event._tag === "SessionStarted") started = event
            else resumed.push(event)
          }
          return { ...position, family: "session", state: { started, resumed } }
        }
      )
    case "planner":
      if (planner !== undefined) {
        return Effect.map(planner.fold(group.events), (state): AggregateReplay => ({
          ...position,
          family: "planner",
          state
        }))
      }
  }
  return Effect.succeed({
    ...position,
    family: "other",
    types: Array.from(new Set(group.events.map((event) => event.type)))
  })
}

/**
 * Folds every aggregate of a session from its first event up to stream sequence `until`
 * (inclusive). A stored event that does not decode fails the replay with a `DecodeError` naming it.
 *
 * @since 0.1.0
 * @category folding
 */
export const replay = (history: SessionHistory, until: number): Effect.Effect<SessionReplay, DecodeError> =>
  Effect.gen(function* () {
    const events = history.events.filter((event) => event.sequence <= until)
    const groups = groupsOf(events)
    const planner = groups.some((group) => group.family === "planner")
      ? yield* Effect.promise(() => import("./PlannerReplay.js"))
      : undefined
    const aggregates = yield* Effect.forEach(groups, (group) => foldGroup(group, planner))
    return {
      sessionId: history.sessionId,
      until: Math.min(until, history.lastSequence),
      latestSequence: history.lastSequence,
      events: events.length,
      totalEvents: history.events.length,
      forkedFrom: Option.getOrUndefined(
        Schema.decodeUnknownOption(ForkOrigin)(history.events[0]?.metadata.forkedFrom)
      ),
      aggregates
    }
  })

// ---------------------------------------------------------------------------------------------
// Showing it

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim()

const shorten = (text: string, max = 200): string => {
  const flat = oneLine(text)
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat
}

const json = (value: unknown): string => shorten(JSON.stringify(value) ?? "null", 120)

const field = (name: string, value: string): string => `  ${name.padEnd(10)} ${value}`

const callLine = (call: ToolCallState): string => {
  const progress =
    call.question !== undefined
      ? "waiting for the user"
      : call.started
        ? "started, no result yet"
        : "not started"
  return field("pending", `${call.call.name} ${json(call.call.params)} · ${progress}`)
}

const lastAssistant = (state: ThreadState): string | undefined => {
  const turn = Chunk.findLast(state.history, (message) => message.role === "assistant")
  if (turn._tag === "None" || turn.value.role !== "assistant") return undefined
  return turn.value.text === ""
    ? `(no text; ${turn.value.toolCalls.map((call) => call.name).join(", ") || "no tool calls"})`
    : `"${shorten(turn.value.text)}"`
}

const renderThread = (state: ThreadState): ReadonlyArray<string> => {
  const budget = state.maxSteps > 0 ? `${state.steps} of ${state.maxSteps} steps` : `${state.steps} steps`
  const lines = [
    field(
      "status",
      `${state.status} · ${budget} · ${state.usage.inputTokens} in / ${state.usage.outputTokens} out tokens`
    )
  ]
  const assistant = lastAssistant(state)
  if (assistant !== undefined) lines.push(field("assistant", assistant))
  for (const call of pendingCalls(state)) lines.push(callLine(call))
  for (const question of state.questions) lines.push(field("question", shorten(question.question)))
  if (state.status === "Done") lines.push(field("done", shorten(state.summary)))
  if (state.status === "Failed") lines.push(field("failed", shorten(state.reason)))
  return lines
}

const taskLine = (task: Task): string => {
  const after = task.dependencies.length > 0 ? ` (after ${task.dependencies.join(", ")})` : ""
  const result = task.result === undefined ? "" : ` → ${shorten(task.result, 120)}`
  return field(
    `task ${task.id}`,
    `${task.status} · ${task.kind} · ${shorten(task.description, 100)}${after}${result}`
  )
}

const renderPlanner = (state: PlannerState): ReadonlyArray<string> => {
  const tasks = Array.from(state.tasks.values())
  const completed = tasks.filter((task) => task.status === "completed").length
  const outcome = state.outcome === undefined ? "" : ` · outcome ${state.outcome}`
  const lines = [field("phase", `${state.phase} · ${completed} of ${tasks.length} tasks completed${outcome}`)]
  if (state.input !== "") lines.push(field("input", `"${shorten(state.input)}"`))
  for (const task of tasks) lines.push(taskLine(task))
  for (const task of tasks) {
    if (task.status === "needs_clarification")
      lines.push(field("question", `task ${task.id}: ${shorten(task.question ?? "")}`))
  }
  if (state.contextSummary !== "") lines.push(field("context", shorten(state.contextSummary)))
  return lines
}

const renderSession = (record: SessionRecord): ReadonlyArray<string> => {
  const lines: Array<string> = []
  const started = record.started
  if (started !== undefined) {
    lines.push(
      field(
        "started",
        `${started.mode} · ${started.model} · ${started.sandbox} sandbox in ${started.workdir} · max ${started.maxSteps} steps`
      ),
      field("input", `"${shorten(started.input)}"`)
    )
  }
  for (const resumed of record.resumed) {
    lines.push(field("resumed", `${resumed.model} · ${resumed.sandbox} sandbox in ${resumed.workdir}`))
  }
  return lines
}

const renderAggregate = (aggregate: AggregateReplay): ReadonlyArray<string> => {
  const heading = `${aggregate.aggregateId}  ${aggregate.family} · v${aggregate.version} · last #${aggregate.lastSequence}`
  switch (aggregate.family) {
    case "thread":
      return [heading, ...renderThread(aggregate.state)]
    case "planner":
      return [heading, ...renderPlanner(aggregate.state)]
    case "session":
      return [heading, ...renderSession(aggregate.state)]
    case "other":
      return [heading, field("events", `${aggregate.events} not folded: ${aggregate.types.join(", ")}`)]
  }
}

/**
 * The replayed state for a person: a heading, then per aggregate its status, steps, tokens,
 * pending tool calls, open questions, last assistant text and how it ended; tasks for a planner.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (replayed: SessionReplay): ReadonlyArray<string> => {
  const where =
    replayed.until >= replayed.latestSequence
      ? `up to #${replayed.until} (latest)`
      : `up to #${replayed.until} (latest #${replayed.latestSequence})`
  const origin =
    replayed.forkedFrom === undefined
      ? ""
      : ` · forked from ${replayed.forkedFrom.session} at #${replayed.forkedFrom.sequence}`
  const lines = [
    `session ${replayed.sessionId} · ${replayed.events} of ${replayed.totalEvents} events · ${where}${origin}`
  ]
  for (const aggregate of replayed.aggregates) lines.push("", ...renderAggregate(aggregate))
  return lines
}

/** JSON-ready copy: `Chunk`s become arrays, `Map`s objects, `Date`s ISO strings. */
const plain = (value: unknown): unknown => {
  if (Chunk.isChunk(value)) return Chunk.toReadonlyArray(value).map(plain)
  if (Array.isArray(value)) return value.map(plain)
  if (value instanceof Map) return Object.fromEntries(Array.from(value, ([k, v]) => [String(k), plain(v)]))
  if (value instanceof Date) return value.toISOString()
  if (typeof value === "object" && value !== null) return plainObject(value)
  return value
}

/** An object's own fields, made JSON-ready; `undefined` fields are left out. */
const plainObject = (value: object): Record<string, unknown> =>
  Object.fromEntries(Object.entries(value).flatMap(([k, v]) => (v === undefined ? [] : [[k, plain(v)]])))

/**
 * One aggregate in `--json` output: its position and JSON-ready state (`types` for a family
 * that is not folded).
 *
 * @since 0.1.0
 * @category models
 */
export interface AggregateJson {
  readonly aggregateId: string
  readonly family: AggregateReplay["family"]
  readonly version: number
  readonly lastSequence: number
  readonly events: number
  readonly state?: unknown
  readonly types?: ReadonlyArray<string>
}

/**
 * What `replay --json` prints.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReplayJson {
  readonly session: string
  readonly until: number
  readonly latestSequence: number
  readonly events: number
  readonly totalEvents: number
  readonly forkedFrom?: ForkOrigin
  readonly aggregates: ReadonlyArray<AggregateJson>
}

const stateJson = (
  aggregate: AggregateReplay
): { readonly state: unknown } | { readonly types: ReadonlyArray<string> } => {
  switch (aggregate.family) {
    case "thread":
      return { state: plain(aggregate.state) }
    case "planner": {
      // Tasks as a list in plan order: the map's keys are the tasks' own ids.
      const { tasks, ...rest } = aggregate.state
      return { state: { ...plainObject(rest), tasks: plain(Array.from(tasks.values())) } }
    }
    case "session":
      return { state: plain(aggregate.state) }
    case "other":
      return { types: aggregate.types }
  }
}

/**
 * The replayed state as one JSON-ready object (what `--json` prints).
 *
 * @since 0.1.0
 * @category rendering
 */
export const toJson = (replayed: SessionReplay): ReplayJson => ({
  session: replayed.sessionId,
  until: replayed.until,
  latestSequence: replayed.latestSequence,
  events: replayed.events,
  totalEvents: replayed.totalEvents,
  ...(replayed.forkedFrom === undefined ? {} : { forkedFrom: replayed.forkedFrom }),
  aggregates: replayed.aggregates.map((aggregate) => ({
    aggregateId: aggregate.aggregateId,
    family: aggregate.family,
    version: aggregate.version,
    lastSequence: aggregate.lastSequence,
    events: aggregate.events,
    ...stateJson(aggregate)
  }))
})
