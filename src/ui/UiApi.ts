/**
 * The web UI's HTTP app: the page, the JSON API behind it and its live feeds.
 *
 * - `GET /` the page;
 * - `GET /api/info` version, store, whether answering is allowed;
 * - `GET /api/sessions` the sessions list; `GET /api/sessions/:id` one session's detail;
 * - `GET /api/sessions/:id/events?after=N&limit=M` its events after a stream sequence, as JSON;
 * - `GET /api/sessions/:id/stream?after=N` the same as Server-Sent Events, then live;
 * - `GET /api/stream?after=N` a change notice per event of the whole stream (for the list);
 * - `POST /api/sessions/:id/answer` `{ "text": … }` answers the question the session waits on,
 *   as `dabgent answer` does; only when the server was started with answering allowed.
 *
 * Path and query parameters are checked with Schema; a bad one is a 400, an unknown session a
 * 404, always with a JSON body `{ error, message }`.
 *
 * @since 0.1.0
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as SessionAnswer from "../cli/SessionAnswer.js"
import { EventStore } from "../store/EventStore.js"
import type { DecodeError, StoreError } from "../store/EventStoreError.js"
import { inSession } from "../workers/ThreadSource.js"
import * as ApiError from "./ApiError.js"
import * as EventFeed from "./EventFeed.js"
import { page } from "./page.js"
import * as SessionSummaries from "./SessionSummaries.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface UiApiOptions {
  readonly streamId: string
  /** Whether `POST /api/sessions/:id/answer` may record answers. */
  readonly allowAnswer: boolean
  /** Time between keep-alive comments on the live feeds. */
  readonly heartbeat: Duration.DurationInput
  /** How the store is shown on the page (never a password). */
  readonly storeLabel: string
  readonly version: string
  /**
   * The host names requests may be addressed to (the `Host` header), when the server listens on
   * loopback only: a page of another site that gets its name resolved to 127.0.0.1 (DNS
   * rebinding) is refused. Absent: any host.
   */
  readonly allowedHosts?: ReadonlyArray<string>
}

/**
 * A session id as the CLI makes them (`t-…`, `p-…`) or an application chooses them: letters,
 * digits, `.`, `_`, `-`, `:`; never a `/` (that names a part of a session).
 *
 * @since 0.1.0
 * @category schemas
 */
export const SessionId = Schema.String.pipe(
  Schema.pattern(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/, {
    message: () =>
      "a session id is 1-128 letters, digits, '.', '_', '-' or ':', starting with a letter or digit"
  })
)

/**
 * A stream sequence in a query string: a non-negative integer.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Sequence = Schema.compose(
  Schema.String.pipe(Schema.pattern(/^\d{1,15}$/, { message: () => "expected a non-negative integer" })),
  Schema.NumberFromString
)

const SessionParams = Schema.Struct({ id: SessionId })

const FeedQuery = Schema.Struct({ after: Schema.optional(Sequence) })

const EventsQuery = Schema.Struct({
  after: Schema.optional(Sequence),
  limit: Schema.optional(
    Sequence.pipe(Schema.filter((n) => (n >= 1 && n <= 10_000) || "limit is between 1 and 10000"))
  )
})

const AnswerBody = Schema.Struct({
  text: Schema.Trim.pipe(
    Schema.nonEmptyString({ message: () => "the answer is empty" }),
    Schema.maxLength(100_000)
  )
})

const badRequest = (what: string) => (error: ParseResult.ParseError) =>
  new ApiError.BadRequest({ message: `${what}: ${ParseResult.TreeFormatter.formatErrorSync(error)}` })

const storeFailure = (error: StoreError | DecodeError) =>
  new ApiError.StoreFailure({ message: error.message })

const sessionId = HttpRouter.schemaPathParams(SessionParams).pipe(
  Effect.map((params) => params.id),
  Effect.mapError(badRequest("bad session id"))
)

const query = <A, I extends Readonly<Record<string, string | ReadonlyArray<string> | undefined>>>(
  schema: Schema.Schema<A, I>
) => HttpServerRequest.schemaSearchParams(schema).pipe(Effect.mapError(badRequest("bad query parameter")))

/** `Last-Event-ID` (sent by a reconnecting browser) wins over `?after=`. */
const resumeAfter = (after: number | undefined) =>
  Effect.flatMap(HttpServerRequest.HttpServerRequest, (request) => {
    const header = request.headers["last-event-id"]
    if (header === undefined || header === "") return Effect.succeed(after)
    return Schema.decodeUnknown(Sequence)(header).pipe(Effect.mapError(badRequest("bad Last-Event-ID")))
  })

const notFound = (id: string) => new ApiError.NotFound({ message: `no session ${id} in this store` })

const handle = <E extends ApiError.ApiError, R>(
  effect: Effect.Effect<HttpServerResponse.HttpServerResponse, E, R>
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, R> =>
  Effect.catchAll(effect, (error) => Effect.succeed(ApiError.toResponse(error)))

const json = (body: unknown) =>
  HttpServerResponse.unsafeJson(body, { headers: { "cache-control": "no-store" } })

/** The host name of a `Host` header (`name:port`, `[v6]:port`), lower-cased. */
const hostName = (host: string): string => {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(host)
  if (bracket !== null) return (bracket[1] ?? "").toLowerCase()
  return host.replace(/:\d+$/, "").toLowerCase()
}

/**
 * The UI's app (routes and error handling), reading the `EventStore` in the context.
 *
 * @since 0.1.0
 * @category constructors
 */
export const make = (options: UiApiOptions) => {
  const existing = (id: string) =>
    Effect.flatMap(EventStore, (store) =>
      store.read({ streamId: options.streamId, aggregatePrefix: id }).pipe(
        Stream.filter((event) => inSession(id, event.aggregateId)),
        Stream.runHead
      )
    ).pipe(
      Effect.mapError(storeFailure),
      Effect.flatMap(Option.match({ onNone: () => Effect.fail(notFound(id)), onSome: () => Effect.void }))
    )

  const feed = (messages: Stream.Stream<EventFeed.Message, StoreError | DecodeError, EventStore>) =>
    Effect.map(EventStore, (store) =>
      EventFeed.respond(Stream.provideService(messages, EventStore, store), { heartbeat: options.heartbeat })
    )

  const answer = Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    if (!options.allowAnswer)
      return yield* new ApiError.Forbidden({
        message:
          'answering from the page is off: start it with `dabgent ui --allow-answer`, or answer with `dabgent answer <session> "<text>"`'
      })
    const origin = request.headers["origin"]
    const host = request.headers["host"]
    if (origin !== undefined && (host === undefined || origin !== `http://${host}`))
      return yield* new ApiError.Forbidden({ message: `requests from ${origin} may not answer` })
    if (!(request.headers["content-type"] ?? "").toLowerCase().startsWith("application/json"))
      return yield* new ApiError.UnsupportedMediaType({ message: "send the answer as application/json" })
    const id = yield* sessionId
    const body = yield* HttpServerRequest.schemaBodyJson(AnswerBody).pipe(
      Effect.mapError((error) =>
        error._tag === "ParseError"
          ? badRequest("bad answer")(error)
          : new ApiError.BadRequest({ message: `bad answer: ${error.message}` })
      )
    )
    const question = yield* SessionAnswer.answer(id, body.text).pipe(
      Effect.catchTags({
        SessionNotFound: () => Effect.fail(notFound(id)),
        NoOpenQuestion: (error) => Effect.fail(new ApiError.Conflict({ message: error.message })),
        ConcurrencyError: (error) => Effect.fail(new ApiError.Conflict({ message: error.message })),
        StoreError: (error) => Effect.fail(storeFailure(error)),
        DecodeError: (error) => Effect.fail(storeFailure(error))
      })
    )
    return json({ answered: true, ...(Option.isSome(question) ? { question: question.value } : {}) })
  })

  const router = HttpRouter.empty.pipe(
    HttpRouter.get(
      "/",
      Effect.succeed(
        HttpServerResponse.html(page).pipe(
          HttpServerResponse.setHeaders({
            "cache-control": "no-store",
            // The page's own inline script and style, its API, nothing else.
            "content-security-policy":
              "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
          })
        )
      )
    ),
    HttpRouter.get(
      "/api/info",
      Effect.succeed(
        json({
          version: options.version,
          store: options.storeLabel,
          streamId: options.streamId,
          allowAnswer: options.allowAnswer
        })
      )
    ),
    HttpRouter.get(
      "/api/sessions",
      handle(
        SessionSummaries.list.pipe(
          Effect.mapError(storeFailure),
          Effect.map((sessions) => json({ sessions }))
        )
      )
    ),
    HttpRouter.get(
      "/api/sessions/:id",
      handle(
        Effect.gen(function* () {
          const id = yield* sessionId
          const found = yield* SessionSummaries.detail(id, options.streamId).pipe(
            Effect.mapError(storeFailure)
          )
          if (Option.isNone(found)) return yield* notFound(id)
          return json(found.value)
        })
      )
    ),
    HttpRouter.get(
      "/api/sessions/:id/events",
      handle(
        Effect.gen(function* () {
          const id = yield* sessionId
          const { after = 0, limit = 1000 } = yield* query(EventsQuery)
          yield* existing(id)
          const store = yield* EventStore
          const page = yield* store
            .read({ streamId: options.streamId, aggregatePrefix: id, fromSequence: after })
            .pipe(
              Stream.filter((event) => inSession(id, event.aggregateId)),
              Stream.take(limit + 1),
              Stream.runCollect,
              Effect.mapError(storeFailure)
            )
          const events = [...page].slice(0, limit).map(EventFeed.toJson)
          return json({
            sessionId: id,
            events,
            last: events[events.length - 1]?.sequence ?? after,
            more: page.length > limit
          })
        })
      )
    ),
    HttpRouter.get(
      "/api/sessions/:id/stream",
      handle(
        Effect.gen(function* () {
          const id = yield* sessionId
          const { after } = yield* query(FeedQuery)
          const from = yield* resumeAfter(after)
          yield* existing(id)
          return yield* feed(EventFeed.sessionEvents(options.streamId, id, from ?? 0))
        })
      )
    ),
    HttpRouter.get(
      "/api/stream",
      handle(
        Effect.gen(function* () {
          const { after } = yield* query(FeedQuery)
          const from = yield* resumeAfter(after)
          return yield* feed(EventFeed.changes(options.streamId, from))
        })
      )
    ),
    HttpRouter.post("/api/sessions/:id/answer", handle(answer))
  )

  const allowed = options.allowedHosts?.map((host) => host.toLowerCase())
  return Effect.gen(function* () {
    if (allowed !== undefined) {
      const request = yield* HttpServerRequest.HttpServerRequest
      const host = request.headers["host"]
      if (host === undefined || !allowed.includes(hostName(host)))
        return ApiError.toResponse(
          new ApiError.Forbidden({ message: `this server answers requests for ${allowed.join(", ")} only` })
        )
    }
    return yield* router
  }).pipe(
    Effect.catchTag("RouteNotFound", (error) =>
      Effect.succeed(
        ApiError.toResponse(
          new ApiError.NotFound({ message: `no route ${error.request.method} ${error.request.url}` })
        )
      )
    )
  )
}
