/**
 * A JSON value whose TypeScript type stays `unknown`.
 *
 * Tool parameters and tool results are whatever the model or the tool produced, so their type is
 * `unknown`; but they are stored as JSON, so a value that would not survive `JSON.stringify` and
 * `JSON.parse` unchanged (a `Date`, a function, `undefined`, `NaN`, a class instance, a cycle) is
 * rejected when an event is built, encoded or decoded, instead of being silently changed on disk.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

const isPlainObject = (value: object): boolean => {
  const proto: unknown = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/** Below this depth no cycle is tracked: a cycle only recurses until it is reached. */
const untrackedDepth = 32

// The ancestors are tracked only past `untrackedDepth`: shallow values (nearly all tool
// parameters and results) are checked without allocating a Set, and a cycle is still found.
const isJson = (value: unknown, depth: number, ancestors: Set<object> | undefined): boolean => {
  if (value === null || typeof value === "string" || typeof value === "boolean") return true
  if (typeof value === "number") return Number.isFinite(value)
  if (typeof value !== "object") return false
  if (depth >= untrackedDepth) {
    if (ancestors === undefined) ancestors = new Set()
    if (ancestors.has(value)) return false
    ancestors.add(value)
  }
  try {
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        if (!isJson(value[i], depth + 1, ancestors)) return false
      }
      return true
    }
    if (!isPlainObject(value) || Object.getOwnPropertySymbols(value).length > 0) return false
    for (const key in value) {
      if (!isJson((value as Record<string, unknown>)[key], depth + 1, ancestors)) return false
    }
    return true
  } finally {
    ancestors?.delete(value)
  }
}

/**
 * Whether a value round-trips through `JSON.stringify` / `JSON.parse` unchanged: `null`, booleans,
 * finite numbers, strings, arrays without holes and plain objects of those, without cycles.
 *
 * @since 0.1.0
 * @category guards
 */
export const isJsonValue = (value: unknown): boolean => isJson(value, 0, undefined)

let parsedJsonDepth = 0

/**
 * Runs `f` (a synchronous decode) on input that came out of `JSON.parse`: {@link JsonValue}
 * accepts every value without walking it again, since a parsed value is JSON by construction.
 * Only for input whose every part was parsed; anything else is checked as usual.
 *
 * @since 0.1.0
 * @category schemas
 */
export const decodingParsedJson = <A>(f: () => A): A => {
  parsedJsonDepth++
  try {
    return f()
  } finally {
    parsedJsonDepth--
  }
}

/**
 * Schema for a JSON value: the type is `unknown`, and both decoding and encoding check
 * {@link isJsonValue}.
 *
 * @since 0.1.0
 * @category schemas
 */
export const JsonValue: Schema.Schema<unknown> = Schema.Unknown.pipe(
  Schema.filter(
    (value) =>
      parsedJsonDepth > 0 ||
      isJsonValue(value) ||
      "expected a JSON value (null, boolean, finite number, string, array or plain object)",
    {
      identifier: "JsonValue"
    }
  )
)
