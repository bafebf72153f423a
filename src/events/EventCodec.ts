/**
 * Encodes domain events for the store and decodes stored events back, with Schema, for a set
 * of families. A stored event that does not decode fails with `DecodeError` naming its stream,
 * sequence and type; nothing is dropped.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { DecodeError } from "../store/EventStoreError.js"
import { isParsedJson } from "../store/internal/parsedJson.js"
import type { NewEvent, StoredEvent } from "../store/StoredEvent.js"
import { decodingParsedJson } from "../thread/JsonValue.js"
import * as EventFamily from "./EventFamily.js"

/**
 * A stored event with its decoded domain event and family.
 *
 * @since 0.1.0
 * @category models
 */
export type Decoded<F extends EventFamily.EventFamily.Any> =
  F extends EventFamily.EventFamily<infer N, infer S>
    ? { readonly family: N; readonly event: Schema.Schema.Type<S>; readonly stored: StoredEvent }
    : never

/**
 * @since 0.1.0
 * @category models
 */
export interface EventCodec<F extends EventFamily.EventFamily.Any> {
  readonly families: ReadonlyArray<F>
  /** The store form of an event of `family`. Fails only on an event its own Schema rejects. */
  readonly encode: <G extends F>(
    family: G,
    event: EventFamily.EventFamily.Event<G>
  ) => Effect.Effect<NewEvent, ParseResult.ParseError>
  /** The domain event of a stored one, or a `DecodeError` naming it. */
  readonly decode: (stored: StoredEvent) => Effect.Effect<Decoded<F>, DecodeError>
  /** `decode`, synchronously: for readers that decode whole pages at a time. */
  readonly decodeEither: (stored: StoredEvent) => Either.Either<Decoded<F>, DecodeError>
  /** Whether a stored type belongs to one of the families. */
  readonly knows: (type: string) => boolean
}

const damaged = (stored: StoredEvent, reason: string) =>
  Either.left(
    new DecodeError({ streamId: stored.streamId, sequence: stored.sequence, type: stored.type, reason })
  )

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/**
 * A codec for the given families (their names must differ).
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Families extends ReadonlyArray<EventFamily.EventFamily.Any>>(
  ...families: Families
): EventCodec<Families[number]> => {
  type F = Families[number]
  const byName = new Map<string, F>()
  for (const family of families) {
    if (byName.has(family.name)) throw new Error(`event family "${family.name}" is registered twice`)
    byName.set(family.name, family)
  }
  const encoders = new Map(families.map((f) => [f.name, Schema.encode(f.schema)]))
  // Compiled once per family and run synchronously: replaying a long log decodes every event.
  const decoders = new Map(
    families.map((f) => [f.name, Schema.decodeUnknownEither(f.schema, { onExcessProperty: "error" })])
  )

  const encode = <G extends F>(family: G, event: EventFamily.EventFamily.Event<G>) => {
    const encoder = encoders.get(family.name) ?? Schema.encode(family.schema)
    return Effect.flatMap(encoder(event), (encoded: unknown) => {
      if (!isRecord(encoded) || typeof encoded._tag !== "string") {
        return Effect.dieMessage(`event family "${family.name}" encodes events without a _tag`)
      }
      const { _tag, ...data } = encoded
      return Effect.succeed({ type: EventFamily.typeOf(family, _tag), data })
    })
  }

  const decodeEither = (stored: StoredEvent): Either.Either<Decoded<F>, DecodeError> => {
    const dot = stored.type.indexOf(".")
    const name = stored.type.slice(0, dot)
    const family = dot > 0 ? byName.get(name) : undefined
    const decoder = decoders.get(name)
    if (family === undefined || decoder === undefined)
      return damaged(stored, `unknown event family in type "${stored.type}"`)
    const data = stored.data
    if (!isRecord(data)) return damaged(stored, "data is not a JSON object")
    const input = { ...data, _tag: stored.type.slice(dot + 1) }
    // Data a backend parsed from JSON text is JSON: its JsonValue fields need no second walk.
    const decoded = isParsedJson(stored) ? decodingParsedJson(() => decoder(input)) : decoder(input)
    return Either.isRight(decoded)
      ? Either.right({ family: family.name, event: decoded.right, stored } as unknown as Decoded<F>)
      : damaged(stored, ParseResult.TreeFormatter.formatErrorSync(decoded.left))
  }

  return {
    families,
    encode,
    // An `Either` is an `Effect` that fails with its `Left`.
    decode: decodeEither,
    decodeEither,
    knows: (type) => {
      const dot = type.indexOf(".")
      return dot > 0 && byName.has(type.slice(0, dot))
    }
  }
}
