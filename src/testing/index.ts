/**
 * `dabgent/testing`: helpers for testing handlers and applications built on dabgent.
 *
 * @since 0.1.0
 */
export * as HandlerSpec from "./HandlerSpec.js"
export * as ScriptedLanguageModel from "./ScriptedLanguageModel.js"
