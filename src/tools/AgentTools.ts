/**
 * The tools an agent thread can call, with the Schemas of their arguments. These names and
 * fields are the contract with the model; renaming one changes what old sessions replay.
 *
 * @since 0.1.0
 */
import * as Tool from "@effect/ai/Tool"
import * as Toolkit from "@effect/ai/Toolkit"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as LenientTool from "../llm/LenientTool.js"
import { RejectedToolCall } from "../llm/RejectedToolCall.js"

/**
 * @since 0.1.0
 * @category tools
 */
export const Bash = Tool.make("bash", {
  description:
    "Run a bash command in the working directory and return its exit code, stdout and stderr (long output is cut in the middle). Default timeout 120 s.",
  parameters: {
    command: Schema.String.annotations({ description: "The command, run with bash -c" }),
    timeout_s: Schema.optional(
      Schema.Number.pipe(Schema.positive(), Schema.lessThanOrEqualTo(3600)).annotations({
        description: "Seconds before the command is killed (max 3600)"
      })
    )
  },
  success: Schema.String
})

/**
 * @since 0.1.0
 * @category tools
 */
export const ReadFile = Tool.make("read_file", {
  description: "Read a UTF-8 text file, relative to the working directory.",
  parameters: { path: Schema.String },
  success: Schema.String
})

/**
 * @since 0.1.0
 * @category tools
 */
export const WriteFile = Tool.make("write_file", {
  description: "Write a UTF-8 text file (creating folders as needed), relative to the working directory.",
  parameters: { path: Schema.String, content: Schema.String },
  success: Schema.String
})

/**
 * @since 0.1.0
 * @category tools
 */
export const Ls = Tool.make("ls", {
  description: "List a folder (the working directory by default).",
  parameters: { path: Schema.optional(Schema.String) },
  success: Schema.String
})

/**
 * @since 0.1.0
 * @category tools
 */
export const Rm = Tool.make("rm", {
  description: "Remove a file or a folder (recursively), relative to the working directory.",
  parameters: { path: Schema.String },
  success: Schema.String
})

/**
 * @since 0.1.0
 * @category tools
 */
export const Done = Tool.make("done", {
  description:
    "Call when the task is complete, with a short summary. The work is then validated; if validation fails you get its output and must fix the problem.",
  parameters: { summary: Schema.String },
  success: Schema.String
})

/**
 * Asks the user a question. Not run by the tool runner: the tool worker turns the call into a
 * question on the thread, and the user's answer becomes the call's result.
 *
 * @since 0.1.0
 * @category tools
 */
export const AskUser = Tool.make("ask_user", {
  description:
    "Ask the user a question when you cannot go on without their decision or information (a requirement, a choice, a secret you must not guess). Their answer is this call's result. Do not ask what you can find out with the other tools.",
  parameters: {
    question: Schema.NonEmptyString.annotations({
      description: "The question, self-contained: the user may read it long after the session started"
    })
  },
  success: Schema.String
})

/**
 * Every tool an agent can call, by name.
 *
 * @since 0.1.0
 * @category tools
 */
export const tools = [Bash, ReadFile, WriteFile, Ls, Rm, AskUser, Done] as const

/**
 * @since 0.1.0
 * @category tools
 */
export type ToolName = (typeof tools)[number]["name"]

/**
 * The toolkit handed to the model: the tools with lenient parameters (the model sees the same
 * JSON Schemas; arguments are checked by the tool runner, so a bad call becomes an error result
 * instead of failing the turn) plus the hidden `rejected_tool_call`.
 *
 * @since 0.1.0
 * @category tools
 */
export const AgentToolkit = Toolkit.make(
  LenientTool.lenient(Bash),
  LenientTool.lenient(ReadFile),
  LenientTool.lenient(WriteFile),
  LenientTool.lenient(Ls),
  LenientTool.lenient(Rm),
  LenientTool.lenient(AskUser),
  LenientTool.lenient(Done),
  RejectedToolCall
)

const unused = Effect.dieMessage("agent tools are run by the ToolWorker, not by the model client")

/**
 * Handlers for {@link AgentToolkit}: never called, because tool call resolution is off and the
 * ToolWorker runs the calls from the log.
 *
 * @since 0.1.0
 * @category layers
 */
export const AgentToolkitHandlers = AgentToolkit.toLayer(
  AgentToolkit.of({
    bash: () => unused,
    read_file: () => unused,
    write_file: () => unused,
    ls: () => unused,
    rm: () => unused,
    ask_user: () => unused,
    done: () => unused,
    rejected_tool_call: () => unused
  })
)
