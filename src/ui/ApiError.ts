/**
 * The ways a request to the UI's API can fail, as data, and their HTTP form: a status and a JSON
 * body `{ error, message }`.
 *
 * @since 0.1.0
 */
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Schema from "effect/Schema"

/**
 * A path, query or body parameter that does not match its Schema (400).
 *
 * @since 0.1.0
 * @category errors
 */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", { message: Schema.String }) {}

/**
 * No such session, or no such route (404).
 *
 * @since 0.1.0
 * @category errors
 */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { message: Schema.String }) {}

/**
 * The server does not allow this (answering without `--allow-answer`, a foreign origin or host) (403).
 *
 * @since 0.1.0
 * @category errors
 */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", { message: Schema.String }) {}

/**
 * The session is not in a state that allows this, e.g. no question to answer (409).
 *
 * @since 0.1.0
 * @category errors
 */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", { message: Schema.String }) {}

/**
 * A body that is not JSON where JSON is required (415).
 *
 * @since 0.1.0
 * @category errors
 */
export class UnsupportedMediaType extends Schema.TaggedError<UnsupportedMediaType>()("UnsupportedMediaType", {
  message: Schema.String
}) {}

/**
 * The store could not be read, or holds an event that does not decode (500).
 *
 * @since 0.1.0
 * @category errors
 */
export class StoreFailure extends Schema.TaggedError<StoreFailure>()("StoreFailure", {
  message: Schema.String
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export type ApiError = BadRequest | NotFound | Forbidden | Conflict | UnsupportedMediaType | StoreFailure

const statusOf: { readonly [K in ApiError["_tag"]]: number } = {
  BadRequest: 400,
  Forbidden: 403,
  NotFound: 404,
  Conflict: 409,
  UnsupportedMediaType: 415,
  StoreFailure: 500
}

/**
 * The response for an error: its status and `{ error, message }`.
 *
 * @since 0.1.0
 * @category responses
 */
export const toResponse = (error: ApiError): HttpServerResponse.HttpServerResponse =>
  HttpServerResponse.unsafeJson(
    { error: error._tag, message: error.message },
    { status: statusOf[error._tag] }
  )
