/**
 * An event family: the events of one aggregate kind under one name. The stored type of an
 * event is `<family>.<_tag>` (e.g. `thread.Prompted`); its data is the Schema-encoded event
 * without the tag. Renaming a family or a tag is a migration.
 *
 * @since 0.1.0
 */
import type * as Schema from "effect/Schema"

/**
 * A family: its name and the Schema of its events (a union of tagged classes).
 *
 * @since 0.1.0
 * @category models
 */
export interface EventFamily<Name extends string, S extends Schema.Schema.AnyNoContext> {
  readonly name: Name
  readonly schema: S
}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace EventFamily {
  export type Any = EventFamily<string, Schema.Schema.AnyNoContext>
  /** The domain events of a family. */
  export type Event<F> = F extends EventFamily<infer _N, infer S> ? Schema.Schema.Type<S> : never
  export type Name<F> = F extends EventFamily<infer N, infer _S> ? N : never
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const make = <const Name extends string, S extends Schema.Schema.AnyNoContext>(
  name: Name,
  schema: S
): EventFamily<Name, S> => ({ name, schema })

/**
 * The stored type of an event of a family.
 *
 * @since 0.1.0
 * @category naming
 */
export const typeOf = (family: EventFamily.Any, tag: string): string => `${family.name}.${tag}`
