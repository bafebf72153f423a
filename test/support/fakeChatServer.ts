/**
 * A local fake OpenAI-compatible chat-completions server for end-to-end tests.
 *
 * It listens on 127.0.0.1 (a free port), answers `POST /v1/chat/completions` from a script of
 * turns (or a handler), records every request, and can answer with errors (429 with
 * `Retry-After`, 500, 401, unknown model) to exercise retries and error reporting.
 *
 * In a test:
 * ```ts
 * const server = yield* FakeChatServer.scoped({ turns: [{ text: "hi" }] })   // or await start(...)
 * // --base-url server.url
 * ```
 * As a separate process (for CLI tests):
 * ```
 * node --import tsx test/support/fakeChatServer.ts --script turns.json [--log requests.ndjson] [--port 0]
 * ```
 * prints its base URL (`http://127.0.0.1:<port>/v1`) as the first line of stdout and serves until
 * killed. The script file is a JSON array of turns, or `{ "turns": [...], "models"?: [...],
 * "apiKey"?: "..." }`; each request is appended to the log file as one JSON line.
 */
import { appendFileSync, readFileSync } from "node:fs"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import { pathToFileURL } from "node:url"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"

/** A scripted tool call: `params` (sent as JSON) or raw `arguments` (to script broken JSON). */
export const FakeToolCall = Schema.Struct({
  id: Schema.optional(Schema.String),
  name: Schema.String,
  params: Schema.optional(Schema.Unknown),
  arguments: Schema.optional(Schema.String)
})
export type FakeToolCall = typeof FakeToolCall.Type

/** A normal answer. `finishReason` is the wire value (`stop`, `tool_calls`, `length`, ...). */
export const FakeReply = Schema.Struct({
  text: Schema.optional(Schema.String),
  toolCalls: Schema.optional(Schema.Array(FakeToolCall)),
  usage: Schema.optional(Schema.Struct({ inputTokens: Schema.Number, outputTokens: Schema.Number })),
  finishReason: Schema.optional(Schema.String)
})
export type FakeReply = typeof FakeReply.Type

/** An HTTP error answer (or any raw answer): status, optional headers and JSON body. */
export const FakeError = Schema.Struct({
  status: Schema.Number,
  headers: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.String })),
  body: Schema.optional(Schema.Unknown)
})
export type FakeError = typeof FakeError.Type

export const FakeResponse = Schema.Union(FakeError, FakeReply)
export type FakeResponse = typeof FakeResponse.Type

/** One request the server received. `body` is the parsed JSON (or the raw text if it was not JSON). */
export interface RecordedRequest {
  readonly method: string
  readonly path: string
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  readonly body: unknown
}

/** A turn: a response, or a function of the request (and its index among chat requests). */
export type Turn = FakeResponse | ((request: RecordedRequest, index: number) => FakeResponse)

export interface Options {
  readonly turns?: ReadonlyArray<Turn>
  /** Answers every chat request instead of `turns`. */
  readonly handler?: (request: RecordedRequest, index: number) => FakeResponse
  /** When set, a request for any other model gets a 404 "model not found". */
  readonly models?: ReadonlyArray<string>
  /** When set, requests without `Authorization: Bearer <apiKey>` get a 401. */
  readonly apiKey?: string
  readonly port?: number
  /** The address to listen on. Default 127.0.0.1 (`0.0.0.0` for clients in other network namespaces). */
  readonly host?: string
  /** Called with each request as it arrives (the CLI mode appends it to a log file). */
  readonly onRequest?: (request: RecordedRequest) => void
}

export interface FakeChatServer {
  /** The base URL to give as `--base-url` / `DABGENT_BASE_URL`: `http://127.0.0.1:<port>/v1`. */
  readonly url: string
  /** The port it listens on (for a base URL on another address than 127.0.0.1). */
  readonly port: number
  /** Every request received, in order (chat and others). */
  readonly requests: ReadonlyArray<RecordedRequest>
  /** The bodies of the chat-completions requests, in order. */
  readonly chatBodies: () => ReadonlyArray<unknown>
  readonly close: () => Promise<void>
}

/** 429 with `Retry-After` in seconds. */
export const rateLimited = (retryAfterSeconds: number): FakeError => ({
  status: 429,
  headers: { "retry-after": String(retryAfterSeconds) },
  body: { error: { message: "Rate limit reached", type: "rate_limit_error" } }
})

/** 500 with an OpenAI-style error body. */
export const serverError = (status = 500): FakeError => ({
  status,
  body: { error: { message: "The server had an error while processing your request", type: "server_error" } }
})

/** 401 the way OpenAI answers a bad key. */
export const unauthorized = (): FakeError => ({
  status: 401,
  body: {
    error: { message: "Incorrect API key provided", type: "invalid_request_error", code: "invalid_api_key" }
  }
})

/** 404 the way Ollama answers an unknown model. */
export const modelNotFound = (model: string): FakeError => ({
  status: 404,
  body: { error: { message: `model "${model}" not found, try pulling it first`, type: "not_found_error" } }
})

const isError = (response: FakeResponse): response is FakeError => "status" in response

const modelOf = (body: unknown): string =>
  typeof body === "object" && body !== null && "model" in body && typeof body.model === "string"
    ? body.model
    : ""

const completion = (reply: FakeReply, model: string, index: number) => {
  const calls = (reply.toolCalls ?? []).map((call, i) => ({
    id: call.id ?? `call_${index + 1}_${i + 1}`,
    type: "function",
    function: { name: call.name, arguments: call.arguments ?? JSON.stringify(call.params ?? {}) }
  }))
  const usage = reply.usage ?? { inputTokens: 10, outputTokens: 5 }
  return {
    id: `chatcmpl-fake-${index + 1}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: "assistant",
          content: reply.text ?? null,
          ...(calls.length === 0 ? {} : { tool_calls: calls })
        },
        finish_reason: reply.finishReason ?? (calls.length > 0 ? "tool_calls" : "stop")
      }
    ],
    usage: {
      prompt_tokens: usage.inputTokens,
      completion_tokens: usage.outputTokens,
      total_tokens: usage.inputTokens + usage.outputTokens
    }
  }
}

const readBody = (req: IncomingMessage): Promise<string> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")))
    req.on("error", reject)
  })

const parseBody = (text: string): unknown => {
  try {
    const value: unknown = JSON.parse(text)
    return value
  } catch {
    return text
  }
}

const send = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): void => {
  const text = body === undefined ? "" : JSON.stringify(body)
  res.writeHead(status, {
    "content-type": "application/json",
    "content-length": Buffer.byteLength(text),
    ...headers
  })
  res.end(text)
}

/** Starts the server. */
export const start = async (options: Options = {}): Promise<FakeChatServer> => {
  const requests: Array<RecordedRequest> = []
  const chat: Array<RecordedRequest> = []
  const turns = options.turns ?? []

  const answer = (request: RecordedRequest, index: number): FakeResponse => {
    if (options.apiKey !== undefined && request.headers["authorization"] !== `Bearer ${options.apiKey}`)
      return unauthorized()
    const model = modelOf(request.body)
    if (options.models !== undefined && !options.models.includes(model)) return modelNotFound(model)
    if (options.handler !== undefined) return options.handler(request, index)
    const turn = turns[index]
    if (turn === undefined)
      return {
        status: 400,
        body: {
          error: {
            message: `fake chat server: the script ran out (request ${index + 1}, ${turns.length} turns)`
          }
        }
      }
    return typeof turn === "function" ? turn(request, index) : turn
  }

  const server = createServer((req, res) => {
    readBody(req)
      .then((text) => {
        const request: RecordedRequest = {
          method: req.method ?? "GET",
          path: req.url ?? "/",
          headers: req.headers,
          body: parseBody(text)
        }
        requests.push(request)
        options.onRequest?.(request)
        if (request.method !== "POST" || !/\/chat\/completions$/.test(request.path.split("?")[0] ?? "")) {
          send(res, 404, { error: { message: `no route ${request.method} ${request.path}` } })
          return
        }
        const index = chat.length
        chat.push(request)
        const response = answer(request, index)
        if (isError(response)) send(res, response.status, response.body, response.headers)
        else send(res, 200, completion(response, modelOf(request.body), index))
      })
      .catch((error: unknown) => send(res, 500, { error: { message: String(error) } }))
  })

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve())
  })
  const address = server.address()
  const port = typeof address === "object" && address !== null ? address.port : 0

  return {
    url: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatBodies: () => chat.map((request) => request.body),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections()
        server.close((error) => (error === undefined ? resolve() : reject(error)))
      })
  }
}

/** The server for the length of a Scope. */
export const scoped = (options: Options = {}): Effect.Effect<FakeChatServer, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.promise(() => start(options)),
    (server) => Effect.promise(() => server.close())
  )

const ScriptFile = Schema.Union(
  Schema.Array(FakeResponse),
  Schema.Struct({
    turns: Schema.Array(FakeResponse),
    models: Schema.optional(Schema.Array(Schema.String)),
    apiKey: Schema.optional(Schema.String)
  })
)

const argValue = (args: ReadonlyArray<string>, flag: string): string | undefined => {
  const i = args.indexOf(flag)
  return i < 0 ? undefined : args[i + 1]
}

const main = async (args: ReadonlyArray<string>): Promise<void> => {
  const scriptPath = argValue(args, "--script")
  const logPath = argValue(args, "--log")
  const script = Schema.decodeUnknownSync(ScriptFile)(
    scriptPath === undefined ? [] : JSON.parse(readFileSync(scriptPath, "utf8"))
  )
  const server = await start({
    ...("turns" in script
      ? {
          turns: script.turns,
          ...(script.models === undefined ? {} : { models: script.models }),
          ...(script.apiKey === undefined ? {} : { apiKey: script.apiKey })
        }
      : { turns: script }),
    port: Number(argValue(args, "--port") ?? "0"),
    ...(logPath === undefined
      ? {}
      : { onRequest: (request) => appendFileSync(logPath, JSON.stringify(request) + "\n") })
  })
  process.stdout.write(`${server.url}\n`)
  const stop = () => {
    void server.close().then(() => process.exit(0))
  }
  process.on("SIGTERM", stop)
  process.on("SIGINT", stop)
}

const entry = process.argv[1]
if (entry !== undefined && import.meta.url === pathToFileURL(entry).href) {
  main(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`fake chat server: ${String(error)}\n`)
    process.exit(1)
  })
}
