/**
 * Serving the web UI: a Node HTTP server running the UI's app on a host and port, for as long as
 * the scope lives. Closing the scope closes every open connection too (live feeds never end by
 * themselves), so Ctrl-C stops the server at once.
 *
 * @since 0.1.0
 */
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServer from "@effect/platform/HttpServer"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { createServer } from "node:http"
import type { EventStore } from "../store/EventStore.js"
import { isLoopback, unbracket } from "./Loopback.js"
import * as UiApi from "./UiApi.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface UiServerOptions extends Omit<UiApi.UiApiOptions, "allowedHosts"> {
  /** The port to listen on; 0 picks a free one. */
  readonly port: number
  /** The address to listen on; a loopback one by default. */
  readonly host: string
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RunningUi {
  readonly url: string
  readonly port: number
}

const urlHost = (host: string) => (host.includes(":") && !host.startsWith("[") ? `[${host}]` : host)

/**
 * Starts the server; it stops when the scope closes.
 *
 * @since 0.1.0
 * @category constructors
 */
export const start = (
  options: UiServerOptions
): Effect.Effect<RunningUi, HttpServerError.ServeError, EventStore | Scope.Scope> =>
  Effect.gen(function* () {
    const node = createServer()
    const server = yield* NodeHttpServer.make(() => node, { port: options.port, host: options.host })
    // Runs before the server's own close (finalizers run in reverse): that close would wait for
    // every open live feed to end, which they never do by themselves.
    yield* Effect.addFinalizer(() => Effect.sync(() => node.closeAllConnections()))
    const loopback = isLoopback(options.host)
    const app = UiApi.make({
      ...options,
      ...(loopback ? { allowedHosts: ["localhost", "127.0.0.1", "::1", unbracket(options.host)] } : {})
    })
    yield* HttpServer.serveEffect(app).pipe(Effect.provideService(HttpServer.HttpServer, server))
    const port = server.address._tag === "TcpAddress" ? server.address.port : options.port
    return { url: `http://${urlHost(options.host)}:${port}/`, port }
  })
