/**
 * The agent's tools, their runner and the validator behind `done`.
 *
 * @since 0.1.0
 */
export * as AgentTools from "./AgentTools.js"
export * as ToolRunner from "./ToolRunner.js"
export * as Validator from "./Validator.js"
