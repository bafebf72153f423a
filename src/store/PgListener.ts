/**
 * One dedicated `LISTEN` connection to Postgres that survives drops: it reconnects with jittered
 * backoff (up to 30 s between tries) and hands every notification's payload to `onPayload`. The
 * event store uses it for its append notifications; the fleet's leases for their releases.
 *
 * @since 0.1.0
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import pg from "pg"

/**
 * Resolves once `LISTEN channel` is active on a connection of its own; closed with the scope.
 * A drop after that reconnects in the background (callers poll meanwhile); a failure of the
 * first connection is the caller's, mapped by `onError`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const listen = <E>(options: {
  readonly url: string
  readonly channel: string
  readonly onPayload: (payload: string) => void
  readonly onError: (cause: unknown) => E
}): Effect.Effect<void, E, Scope.Scope> =>
  Effect.gen(function* () {
    let closed = false
    let client: pg.Client | undefined
    const connect = Effect.tryPromise({
      try: async () => {
        const next = new pg.Client({ connectionString: options.url })
        // node-pg reports one drop as several errors (the server's "terminating connection",
        // then "Connection terminated unexpectedly"): only the first drop of the active
        // listener reconnects, or every drop would double the listeners. A client that fails
        // while connecting is the retry's business.
        next.on("error", () => {
          if (client !== next) return
          client = undefined
          if (!closed) Effect.runFork(reconnect)
        })
        next.on("notification", (message) => options.onPayload(message.payload ?? ""))
        try {
          await next.connect()
          await next.query(`LISTEN ${options.channel}`)
        } catch (error) {
          await next.end().catch(() => undefined)
          throw error
        }
        // Closed while connecting: nobody would end this client.
        if (closed) await next.end().catch(() => undefined)
        else client = next
      },
      catch: options.onError
    })
    const reconnect: Effect.Effect<void> = connect.pipe(
      Effect.retry(
        Schedule.jittered(Schedule.exponential("100 millis", 2)).pipe(Schedule.upTo("30 seconds"))
      ),
      Effect.ignore
    )
    yield* connect
    yield* Effect.addFinalizer(() =>
      Effect.promise(async () => {
        closed = true
        await client?.end().catch(() => undefined)
      })
    )
  })
