/**
 * Reads a plan out of a model's answer. Models are asked for `{"tasks": [...]}` but answer in
 * many shapes: bare JSON, JSON in a code fence with prose around it, numeric ids, kinds spelled
 * their own way, or the original dabgent's XML `<tasks><task>...</task></tasks>`. This module
 * accepts all of them, says which it found, and falls back to a single `processing` task (with a
 * warning naming why) when nothing parses, so planning never stops on a badly formatted answer.
 *
 * Pure: no model, no I/O. Whether the plan is valid (`validatePlan`) is the caller's decision.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as Schema from "effect/Schema"
import { TaskSpec } from "./Plan.js"
import type { TaskKind } from "./PlannerState.js"

/**
 * Where the tasks were found: the whole text (or a JSON object inside prose) as JSON, a fenced
 * code block, the XML form, or nowhere (`fallback`).
 *
 * @since 0.1.0
 * @category models
 */
export type PlanFormat = "json" | "json-fenced" | "xml" | "fallback"

/**
 * The outcome of parsing: never empty. `warnings` name everything that was repaired or ignored
 * (unknown kinds, skipped tasks, candidates that did not parse) and, for `fallback`, why.
 *
 * @since 0.1.0
 * @category models
 */
export interface ParsedPlan {
  readonly tasks: ReadonlyArray<TaskSpec>
  readonly format: PlanFormat
  readonly warnings: ReadonlyArray<string>
}

/**
 * The plan used when none can be read: one `processing` task that carries the whole input, so
 * the work still happens as a single agent thread. `reason` becomes the warning.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fallback = (
  input: string,
  reason: string,
  warnings: ReadonlyArray<string> = []
): ParsedPlan => ({
  tasks: [new TaskSpec({ id: "1", description: input, kind: "processing", dependencies: [] })],
  format: "fallback",
  warnings: [...warnings, reason]
})

// ---------------------------------------------------------------------------------------------
// Kinds

const kindAliases: ReadonlyMap<string, TaskKind> = new Map<string, TaskKind>([
  ["tool_call", "tool_call"],
  ["toolcall", "tool_call"],
  ["tool", "tool_call"],
  ["tools", "tool_call"],
  ["tool_use", "tool_call"],
  ["action", "tool_call"],
  ["command", "tool_call"],
  ["execute", "tool_call"],
  ["execution", "tool_call"],
  ["processing", "processing"],
  ["process", "processing"],
  ["analysis", "processing"],
  ["analyze", "processing"],
  ["reasoning", "processing"],
  ["think", "processing"],
  ["thinking", "processing"],
  ["llm", "processing"],
  ["clarification", "clarification"],
  ["clarify", "clarification"],
  ["question", "clarification"],
  ["ask", "clarification"],
  ["ask_user", "clarification"],
  ["user_input", "clarification"]
])

/**
 * A task kind as a model may spell it (`"Tool-Call"`, `"tool"`, `"question"`, ...) mapped to
 * the canonical kind; `undefined` when the spelling is not recognised.
 *
 * @since 0.1.0
 * @category parsing
 */
export const normalizeKind = (raw: string): TaskKind | undefined =>
  kindAliases.get(
    raw
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, "_")
  )

// ---------------------------------------------------------------------------------------------
// Drafts: one task as read from JSON or XML, before defaults and checks.

interface Draft {
  readonly id?: string
  readonly description?: string
  readonly kind?: string
  readonly dependencies: ReadonlyArray<string>
}

interface Candidate {
  readonly tasks: ReadonlyArray<TaskSpec>
  readonly warnings: ReadonlyArray<string>
}

const emptyDependencyWords = new Set(["none", "null", "n/a", "-", "nil"])

/** Splits `"1, 2 3"` or `"[1,2]"` into ids; `"none"` and friends mean no dependency. */
const splitDependencies = (text: string): ReadonlyArray<string> => {
  const trimmed = text.trim()
  if (emptyDependencyWords.has(trimmed.toLowerCase())) return []
  return trimmed.split(/[\s,;[\]"']+/).filter((part) => part !== "")
}

const toTasks = (drafts: ReadonlyArray<Draft>, where: string): Candidate => {
  const warnings: Array<string> = []
  const tasks: Array<TaskSpec> = []
  drafts.forEach((draft, index) => {
    const position = index + 1
    const description = draft.description?.trim() ?? ""
    if (description === "") {
      warnings.push(`${where}: task ${position} has no description and was skipped`)
      return
    }
    const id = draft.id?.trim() ?? ""
    let kind: TaskKind = "processing"
    if (draft.kind === undefined || draft.kind.trim() === "") {
      warnings.push(`${where}: task ${position} has no kind; treated as processing`)
    } else {
      const known = normalizeKind(draft.kind)
      if (known === undefined)
        warnings.push(
          `${where}: task ${position} has unknown kind ${JSON.stringify(draft.kind)}; treated as processing`
        )
      else kind = known
    }
    tasks.push(
      new TaskSpec({
        id: id === "" ? String(position) : id,
        description,
        kind,
        dependencies: draft.dependencies.map((dependency) => dependency.trim()).filter((d) => d !== "")
      })
    )
  })
  return { tasks, warnings }
}

// ---------------------------------------------------------------------------------------------
// JSON

const Scalar = Schema.Union(Schema.String, Schema.Number)
const Dependencies = Schema.NullOr(Schema.Union(Schema.Array(Scalar), Scalar))

/** One task as models write it: ids and dependencies as strings or numbers, a few synonyms. */
const JsonTask = Schema.Struct({
  id: Schema.optional(Schema.NullOr(Scalar)),
  description: Schema.optional(Schema.NullOr(Schema.String)),
  title: Schema.optional(Schema.NullOr(Schema.String)),
  kind: Schema.optional(Schema.NullOr(Schema.String)),
  type: Schema.optional(Schema.NullOr(Schema.String)),
  dependencies: Schema.optional(Dependencies),
  depends_on: Schema.optional(Dependencies),
  dependsOn: Schema.optional(Dependencies)
})

/** `{"tasks": [...]}` or, leniently, a bare array of tasks. */
const JsonPlan = Schema.Union(
  Schema.Struct({ tasks: Schema.Array(Schema.Unknown) }),
  Schema.Array(Schema.Unknown)
)

const decodeJsonTask = Schema.decodeUnknownEither(JsonTask)
const decodeJsonPlan = Schema.decodeUnknownEither(JsonPlan)

const scalarText = (value: string | number): string => (typeof value === "number" ? String(value) : value)

const dependencyList = (value: typeof Dependencies.Type | undefined): ReadonlyArray<string> => {
  if (value === undefined || value === null) return []
  if (typeof value === "string") return splitDependencies(value)
  if (typeof value === "number") return [String(value)]
  return value.map(scalarText)
}

const optionalText = (value: string | number | null | undefined): { readonly text?: string } =>
  value === undefined || value === null ? {} : { text: scalarText(value) }

/** Tasks from a parsed JSON value, or why it is not a plan. */
const fromJsonValue = (value: unknown, where: string): Either.Either<Candidate, string> => {
  const plan = decodeJsonPlan(value)
  if (Either.isLeft(plan)) return Either.left(`${where}: JSON is not of the form {"tasks": [...]}`)
  const items = Array.isArray(plan.right) ? plan.right : "tasks" in plan.right ? plan.right.tasks : []
  const warnings: Array<string> = []
  const drafts: Array<Draft> = items.map((item, index) => {
    if (typeof item === "string") return { description: item, dependencies: [] }
    const task = decodeJsonTask(item)
    if (Either.isLeft(task)) {
      warnings.push(`${where}: task ${index + 1} is not an object with a description`)
      return { dependencies: [] }
    }
    const { id, description, title, kind, type, dependencies, depends_on, dependsOn } = task.right
    const idText = optionalText(id).text
    const descriptionText = description ?? title ?? undefined
    const kindText = kind ?? type ?? undefined
    return {
      ...(idText === undefined ? {} : { id: idText }),
      ...(descriptionText === undefined ? {} : { description: descriptionText }),
      ...(kindText === undefined ? {} : { kind: kindText }),
      dependencies: dependencyList(dependencies ?? depends_on ?? dependsOn)
    }
  })
  const converted = toTasks(drafts, where)
  const allWarnings = [...warnings, ...converted.warnings]
  if (converted.tasks.length === 0)
    return Either.left(allWarnings.length > 0 ? allWarnings.join("; ") : `${where}: the plan has no task`)
  return Either.right({ tasks: converted.tasks, warnings: allWarnings })
}

const parseJson = (text: string): Either.Either<unknown, string> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (error) {
    // Models often leave a trailing comma; forgive that one mistake before giving up.
    const repaired = text.replace(/,(\s*[}\]])/g, "$1")
    if (repaired !== text) {
      try {
        return Either.right(JSON.parse(repaired))
      } catch {
        // fall through to the original error
      }
    }
    return Either.left(error instanceof Error ? error.message : String(error))
  }
}

const fromJsonText = (text: string, where: string): Either.Either<Candidate, string> =>
  Either.flatMap(
    Either.mapLeft(parseJson(text), (reason) => `${where}: invalid JSON (${reason})`),
    (value) => fromJsonValue(value, where)
  )

interface Fence {
  readonly language: string
  readonly body: string
}

const fences = (text: string): ReadonlyArray<Fence> =>
  Array.from(text.matchAll(/```[ \t]*([\w+-]*)[^\n]*\n([\s\S]*?)```/g), (match) => ({
    language: (match[1] ?? "").toLowerCase(),
    body: match[2] ?? ""
  }))

/** The end index (exclusive) of the balanced `{...}` starting at `start`, aware of JSON strings. */
const balancedEnd = (text: string, start: number): number | undefined => {
  let depth = 0
  let inString = false
  for (let index = start; index < text.length; index++) {
    const char = text[index]
    if (inString) {
      if (char === "\\") index++
      else if (char === '"') inString = false
      continue
    }
    if (char === '"') inString = true
    else if (char === "{") depth++
    else if (char === "}") {
      depth--
      if (depth === 0) return index + 1
    }
  }
  return undefined
}

/** How many object starts the prose scan tries before giving up (bounds the work on huge text). */
const maxObjectStarts = 200

/**
 * The first balanced JSON object in the text that mentions "tasks" and reads as a plan. Only a
 * `{` followed by a quoted key can start a JSON object, which skips the braces of code and prose.
 */
const embeddedObject = (text: string, warnings: Array<string>): Candidate | undefined => {
  if (!text.includes('"tasks"')) return undefined
  let tried = 0
  for (const match of text.matchAll(/\{\s*"/g)) {
    if (tried >= maxObjectStarts) break
    tried++
    const end = balancedEnd(text, match.index)
    if (end === undefined) continue
    const slice = text.slice(match.index, end)
    if (!slice.includes('"tasks"')) continue
    const candidate = fromJsonText(slice, "JSON in text")
    if (Either.isRight(candidate)) return candidate.right
    warnings.push(candidate.left)
  }
  return undefined
}

// ---------------------------------------------------------------------------------------------
// XML

const entities: ReadonlyMap<string, string> = new Map([
  ["lt", "<"],
  ["gt", ">"],
  ["amp", "&"],
  ["quot", '"'],
  ["apos", "'"]
])

const decodeEntities = (text: string): string =>
  text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith("#x") || name.startsWith("#X"))
      return String.fromCodePoint(parseInt(name.slice(2), 16))
    if (name.startsWith("#")) return String.fromCodePoint(parseInt(name.slice(1), 10))
    return entities.get(name.toLowerCase()) ?? whole
  })

/** The text of an element body: CDATA kept verbatim, entities decoded elsewhere, trimmed. */
const xmlText = (body: string): string => {
  const parts: Array<string> = []
  let last = 0
  for (const match of body.matchAll(/<!\[CDATA\[([\s\S]*?)\]\]>/g)) {
    parts.push(decodeEntities(body.slice(last, match.index)), match[1] ?? "")
    last = match.index + match[0].length
  }
  parts.push(decodeEntities(body.slice(last)))
  return parts.join("").trim()
}

const escapeRegExp = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** The body of the first `<name>...</name>` among `names`, in the order given. */
const element = (xml: string, names: ReadonlyArray<string>): string | undefined => {
  for (const name of names) {
    const tag = escapeRegExp(name)
    const match = new RegExp(`<${tag}(?:\\s[^>]*)?>([\\s\\S]*?)</${tag}\\s*>`, "i").exec(xml)
    if (match !== null) return match[1] ?? ""
  }
  return undefined
}

const xmlDependencies = (body: string | undefined): ReadonlyArray<string> => {
  if (body === undefined) return []
  const nested = Array.from(
    body.matchAll(/<(dependency|dep|id|task_id)(?:\s[^>]*)?>([\s\S]*?)<\/\1\s*>/gi),
    (match) => xmlText(match[2] ?? "")
  )
  return nested.length > 0 ? nested : splitDependencies(xmlText(body))
}

/** Tasks from the original's XML form, or why there is none. */
const fromXml = (text: string): Either.Either<Candidate, string> => {
  const wrapper = /<tasks(?:\s[^>]*)?>([\s\S]*?)(?:<\/tasks\s*>|$)/i.exec(text)
  const scope = wrapper === null ? text : (wrapper[1] ?? "")
  const drafts: Array<Draft> = Array.from(
    scope.matchAll(/<task(\s[^>]*)?>([\s\S]*?)<\/task\s*>/gi),
    (match): Draft => {
      const attributes = match[1] ?? ""
      const body = match[2] ?? ""
      const id = element(body, ["id"]) ?? /\bid\s*=\s*["']([^"']*)["']/i.exec(attributes)?.[1]
      const description = element(body, ["description", "title"])
      const kind = element(body, ["kind", "type"])
      return {
        ...(id === undefined ? {} : { id: xmlText(id) }),
        ...(description === undefined ? {} : { description: xmlText(description) }),
        ...(kind === undefined ? {} : { kind: xmlText(kind) }),
        dependencies: xmlDependencies(element(body, ["dependencies", "depends_on"]))
      }
    }
  )
  if (drafts.length === 0)
    return Either.left(wrapper === null ? "no <tasks> element" : "XML: <tasks> holds no <task> element")
  const converted = toTasks(drafts, "XML")
  if (converted.tasks.length === 0) return Either.left(converted.warnings.join("; "))
  return Either.right(converted)
}

// ---------------------------------------------------------------------------------------------

/**
 * Reads the tasks out of a model's answer. Tried in order, first success wins:
 *
 * 1. the whole text as JSON (`json`);
 * 2. fenced code blocks, ```` ```json ```` ones first (`json-fenced`);
 * 3. the first balanced `{...}` in the text that mentions `"tasks"` (`json`);
 * 4. the XML form `<tasks><task><id/><description/><kind/><dependencies/></task></tasks>`
 *    (`xml`), dependencies separated by commas or spaces or as nested `<dependency>` elements;
 * 5. otherwise one `processing` task with the whole text (`fallback`).
 *
 * Within a plan: ids may be numbers (a missing id becomes the task's 1-based position), kinds
 * are matched case-insensitively with common aliases (unknown → `processing`, with a warning),
 * dependencies may be numbers, and a task without a description is skipped with a warning.
 *
 * @since 0.1.0
 * @category parsing
 */
export const parse = (text: string): ParsedPlan => {
  const warnings: Array<string> = []
  const found = (candidate: Candidate, format: PlanFormat): ParsedPlan => ({
    tasks: candidate.tasks,
    format,
    warnings: [...warnings, ...candidate.warnings]
  })

  const trimmed = text.trim()
  if (trimmed.startsWith("{") || trimmed.startsWith("[")) {
    const whole = fromJsonText(trimmed, "JSON")
    if (Either.isRight(whole)) return found(whole.right, "json")
    warnings.push(whole.left)
  }

  const blocks = fences(text)
  const ordered = [
    ...blocks.filter((block) => block.language === "json"),
    ...blocks.filter(
      (block) =>
        block.language !== "json" &&
        (block.body.includes("tasks") || block.body.trimStart().startsWith("[")) &&
        !block.body.trimStart().startsWith("<")
    )
  ]
  for (const block of ordered) {
    const candidate = fromJsonText(block.body.trim(), "fenced block")
    if (Either.isRight(candidate)) return found(candidate.right, "json-fenced")
    warnings.push(candidate.left)
  }

  const embedded = embeddedObject(text, warnings)
  if (embedded !== undefined) return found(embedded, "json")

  const xml = fromXml(text)
  if (Either.isRight(xml)) return found(xml.right, "xml")
  if (/<tasks?[\s>]/i.test(text)) warnings.push(xml.left)

  return fallback(text, `no plan found (expected {"tasks": [...]} as JSON or <tasks> XML)`, warnings)
}
