/**
 * `ask_user` end to end through the workers: the question goes to the Clarifier; an answer is
 * the call's result for the model, no answer stops the run in `UserWait` until `answer` and
 * `resume`.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { existsSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PassThrough } from "node:stream"
import * as Clarifier from "../../src/coordinator/Clarifier.js"
import { DabgentAgent, openQuestions, startThread } from "../../src/DabgentAgent.js"
import * as Sandbox from "../../src/sandbox/Sandbox.js"
import { EventStore } from "../../src/store/index.js"
import { ScriptedLanguageModel } from "../../src/testing/index.js"
import * as Validator from "../../src/tools/Validator.js"
import { threadLog } from "../../src/workers/ThreadSource.js"
import { toolResults } from "../support/agentScript.js"
import { backends } from "../support/stores.js"

const tempDir = () => mkdtempSync(join(tmpdir(), "dabgent-ask-"))

const agentLayer = (options: {
  readonly turns: ReadonlyArray<ScriptedLanguageModel.Turn>
  readonly store: Layer.Layer<EventStore, unknown>
  readonly clarifier?: Layer.Layer<Clarifier.Clarifier>
}) => {
  const base = DabgentAgent.layer.pipe(
    Layer.provideMerge(Validator.layerAcceptAll),
    Layer.provideMerge(Sandbox.layerLocal(tempDir())),
    Layer.provideMerge(ScriptedLanguageModel.layer(options.turns))
  )
  return (options.clarifier === undefined ? base : base.pipe(Layer.provideMerge(options.clarifier))).pipe(
    Layer.provideMerge(options.store)
  )
}

const eventTags = (sessionId: string) =>
  Effect.flatMap(EventStore, (store) =>
    Stream.runCollect(threadLog(store).read({ streamId: "dabgent", aggregateId: sessionId })).pipe(
      Effect.map((events) => Chunk.toReadonlyArray(events).map((e) => e.event._tag))
    )
  )

const askColor: ScriptedLanguageModel.Turn = {
  text: "I need to know the color.",
  toolCalls: [{ id: "ask-1", name: "ask_user", params: { question: "Which color should the button be?" } }]
}

/** The model finishes with the last tool result it saw as its summary. */
const doneWithLastResult: ScriptedLanguageModel.Turn = (request) => {
  const last = toolResults(request.prompt).at(-1)
  expect(last?.name).toBe("ask_user")
  expect(last?.isFailure).toBe(false)
  return { toolCalls: [{ name: "done", params: { summary: `color: ${String(last?.result)}` } }] }
}

for (const backend of backends()) {
  describe(`ask_user (${backend.name})`, () => {
    it.live(`[${backend.name}] a scripted answer becomes the ask_user result and the thread finishes`, () =>
      Effect.gen(function* () {
        const agent = yield* DabgentAgent
        const summary = yield* agent.simpleExecute("paint the button", { maxSteps: 5 })
        expect(summary).toMatchObject({ status: "Done", message: "color: blue", steps: 2 })
        expect(summary.question).toBeUndefined()
        expect(yield* eventTags(summary.sessionId)).toEqual([
          "Prompted",
          "LlmCompleted",
          "UserQuestionAsked",
          "UserAnswered",
          "LlmCompleted",
          "ToolStarted",
          "ToolCompleted",
          "ThreadDone"
        ])
        const requests = yield* Effect.flatMap(ScriptedLanguageModel.ScriptedLanguageModel, (r) => r.requests)
        expect(requests[0]?.tools).toContain("ask_user")
      }).pipe(
        Effect.provide(
          agentLayer({
            store: backend.layer(),
            clarifier: Clarifier.layerScripted(["blue"]),
            turns: [askColor, doneWithLastResult]
          })
        )
      )
    )

    it.live(
      `[${backend.name}] without an answer the run stops in UserWait after the rest of the batch; answer + resume finish it`,
      () => {
        const dir = tempDir()
        return Effect.gen(function* () {
          const agent = yield* DabgentAgent
          const waiting = yield* agent.simpleExecute("paint the button", { maxSteps: 5 })
          expect(waiting).toMatchObject({
            status: "UserWait",
            question: "Which color should the button be?",
            message: "Which color should the button be?",
            steps: 1
          })
          // The other call of the batch ran before the run stopped.
          expect(existsSync(join(dir, "notes.txt"))).toBe(true)
          expect(yield* openQuestions(waiting.sessionId)).toEqual([
            {
              sessionId: waiting.sessionId,
              aggregateId: waiting.sessionId,
              callId: "ask-1",
              question: "Which color should the button be?"
            }
          ])

          // A second run without an answer stops at once, asking nothing new of the model.
          const again = yield* agent.resume(waiting.sessionId)
          expect(again).toMatchObject({ status: "UserWait", question: "Which color should the button be?" })

          const answered = yield* agent.answer(waiting.sessionId, "blue")
          expect(answered.callId).toBe("ask-1")
          expect(yield* openQuestions(waiting.sessionId)).toEqual([])
          const twice = yield* Effect.flip(agent.answer(waiting.sessionId, "red"))
          expect(twice._tag).toBe("NoOpenQuestion")

          const done = yield* agent.resume(waiting.sessionId)
          expect(done).toMatchObject({ status: "Done", message: "color: blue", steps: 2 })
          expect(yield* eventTags(waiting.sessionId)).toEqual([
            "Prompted",
            "LlmCompleted",
            "UserQuestionAsked",
            "ToolStarted",
            "ToolCompleted",
            "UserAnswered",
            "LlmCompleted",
            "ToolStarted",
            "ToolCompleted",
            "ThreadDone"
          ])
          const requests = yield* Effect.flatMap(
            ScriptedLanguageModel.ScriptedLanguageModel,
            (r) => r.requests
          )
          expect(requests.length).toBe(2)
        }).pipe(
          Effect.provide(
            DabgentAgent.layer.pipe(
              Layer.provideMerge(Validator.layerAcceptAll),
              Layer.provideMerge(Sandbox.layerLocal(dir)),
              Layer.provideMerge(
                ScriptedLanguageModel.layer([
                  {
                    toolCalls: [
                      {
                        id: "ask-1",
                        name: "ask_user",
                        params: { question: "Which color should the button be?" }
                      },
                      { id: "w-1", name: "write_file", params: { path: "notes.txt", content: "asked" } }
                    ]
                  },
                  (request) => {
                    const results = toolResults(request.prompt)
                    expect(results.map((r) => [r.name, r.result])).toEqual([
                      ["write_file", "wrote 5 bytes to notes.txt"],
                      ["ask_user", "blue"]
                    ])
                    return { toolCalls: [{ name: "done", params: { summary: "color: blue" } }] }
                  }
                ])
              ),
              Layer.provideMerge(backend.layer())
            )
          )
        )
      }
    )
  })
}

describe("ask_user", () => {
  it.live("Clarifier.layerNone stops the run like no Clarifier at all", () =>
    Effect.gen(function* () {
      const summary = yield* (yield* DabgentAgent).simpleExecute("paint", { maxSteps: 5 })
      expect(summary).toMatchObject({ status: "UserWait", question: "Which color should the button be?" })
    }).pipe(
      Effect.provide(
        agentLayer({ store: EventStore.layerMemory, clarifier: Clarifier.layerNone, turns: [askColor] })
      )
    )
  )

  it.live("invalid arguments are an error result for the model, as for any tool", () =>
    Effect.gen(function* () {
      const summary = yield* (yield* DabgentAgent).simpleExecute("paint", { maxSteps: 5 })
      expect(summary.status).toBe("Done")
      expect(yield* eventTags(summary.sessionId)).not.toContain("UserQuestionAsked")
    }).pipe(
      Effect.provide(
        agentLayer({
          store: EventStore.layerMemory,
          clarifier: Clarifier.layerScripted(["never used"]),
          turns: [
            // The strict schema rejects these; the lenient toolkit lets the call through as made.
            { toolCalls: [{ name: "ask_user", params: { question: "" } }] },
            (request) => {
              const last = toolResults(request.prompt).at(-1)
              expect(last?.isFailure).toBe(true)
              expect(String(last?.result)).toContain("invalid arguments for ask_user")
              return { toolCalls: [{ name: "done", params: { summary: "gave up asking" } }] }
            }
          ]
        })
      )
    )
  )

  it.live("two questions in one turn are asked in order and each answer goes to its own call", () =>
    Effect.gen(function* () {
      const summary = yield* (yield* DabgentAgent).simpleExecute("paint", { maxSteps: 5 })
      expect(summary).toMatchObject({ status: "Done", message: "blue / large" })
    }).pipe(
      Effect.provide(
        agentLayer({
          store: EventStore.layerMemory,
          clarifier: Clarifier.layerScripted(["blue", "large"]),
          turns: [
            {
              toolCalls: [
                { id: "color", name: "ask_user", params: { question: "Color?" } },
                { id: "size", name: "ask_user", params: { question: "Size?" } }
              ]
            },
            (request) => {
              const parts = request.prompt.content.flatMap((m) => (m.role === "tool" ? m.content : []))
              const byId = new Map(parts.map((p) => [p.id, p.result]))
              return {
                toolCalls: [
                  {
                    name: "done",
                    params: { summary: `${String(byId.get("color"))} / ${String(byId.get("size"))}` }
                  }
                ]
              }
            }
          ]
        })
      )
    )
  )

  it.live("a resumed run asks the Clarifier about the question it stopped on", () =>
    Effect.gen(function* () {
      const sessionId = yield* startThread("paint", { maxSteps: 5 })
      const first = yield* runWith(sessionId, Clarifier.layerNone)
      expect(first.status).toBe("UserWait")
      const second = yield* runWith(sessionId, Clarifier.layerScripted(["blue"]))
      expect(second).toMatchObject({ status: "Done", message: "color: blue" })
    }).pipe(
      Effect.provide(
        Layer.mergeAll(
          Validator.layerAcceptAll,
          ScriptedLanguageModel.layer([askColor, doneWithLastResult])
        ).pipe(Layer.provideMerge(Sandbox.layerLocal(tempDir())), Layer.provideMerge(EventStore.layerMemory))
      )
    )
  )

  it.live("answer: an unknown session and a session without a question are typed errors", () =>
    Effect.gen(function* () {
      const agent = yield* DabgentAgent
      const missing = yield* Effect.flip(agent.answer("t-nosuch", "blue"))
      expect(missing._tag).toBe("SessionNotFound")
      const sessionId = yield* startThread("paint", { maxSteps: 5 })
      const none = yield* Effect.flip(agent.answer(sessionId, "blue"))
      expect(none).toMatchObject({ _tag: "NoOpenQuestion", sessionId })
    }).pipe(Effect.provide(agentLayer({ store: EventStore.layerMemory, turns: [] })))
  )
})

const runWith = (sessionId: string, clarifier: Layer.Layer<Clarifier.Clarifier>) =>
  Effect.flatMap(DabgentAgent, (agent) => agent.resume(sessionId)).pipe(
    Effect.provide(DabgentAgent.layer.pipe(Layer.provide(clarifier)))
  )

describe("Clarifier.makeLines", () => {
  const lines = (discardTypeAhead: boolean) => {
    const input = new PassThrough()
    const output = new PassThrough()
    let printed = ""
    output.on("data", (chunk: Buffer) => (printed += chunk.toString()))
    return { input, output, printed: () => printed, discardTypeAhead }
  }
  const question = (text: string): Clarifier.Question => ({
    sessionId: "s",
    aggregateId: "s",
    question: text
  })

  it.scopedLive(
    "prints each question and answers with the next non-blank line, trimmed; EOF is no answer",
    () =>
      Effect.gen(function* () {
        const io = lines(false)
        const clarifier = yield* Clarifier.makeLines(io)
        io.input.write("  blue  \n\n   \nlarge\n")
        io.input.end()
        expect(yield* clarifier.ask(question("Color?"))).toEqual(Option.some("blue"))
        expect(yield* clarifier.ask(question("Size?"))).toEqual(Option.some("large"))
        expect(yield* clarifier.ask(question("Shape?"))).toEqual(Option.none())
        expect(io.printed()).toContain("? Color?")
        expect(io.printed()).toContain("? Size?")
        expect(io.printed()).toContain("? Shape?")
      })
  )

  it.scopedLive("waits for the answer; at a terminal, lines typed before the question are not answers", () =>
    Effect.gen(function* () {
      const io = lines(true)
      const clarifier = yield* Clarifier.makeLines(io)
      const first = yield* Effect.fork(clarifier.ask(question("Color?")))
      yield* Effect.sleep("20 millis")
      io.input.write("green\n")
      expect(yield* first.await).toMatchObject({ _tag: "Success", value: Option.some("green") })
      io.input.write("typed ahead\n")
      yield* Effect.sleep("20 millis")
      const second = yield* Effect.fork(clarifier.ask(question("Size?")))
      yield* Effect.sleep("20 millis")
      io.input.write("small\n")
      expect(yield* second.await).toMatchObject({ _tag: "Success", value: Option.some("small") })
    })
  )
})
