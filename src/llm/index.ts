/**
 * Models: provider layers from configuration, the OpenAI-compatible chat model, and the hidden
 * `rejected_tool_call` tool that keeps a turn with a bad tool call alive.
 *
 * @since 0.1.0
 */

/** @since 0.1.0 */
export * as HttpRetry from "./HttpRetry.js"
/** @since 0.1.0 */
export * as LenientTool from "./LenientTool.js"
/** @since 0.1.0 */
export * as ModelError from "./ModelError.js"
/** @since 0.1.0 */
export * as Models from "./Models.js"
/** @since 0.1.0 */
export * as ModelSpec from "./ModelSpec.js"
/** @since 0.1.0 */
export * as OpenAiCompat from "./OpenAiCompat.js"
/** @since 0.1.0 */
export * as RejectedToolCall from "./RejectedToolCall.js"
