/**
 * The sandbox: contract, errors and layers.
 *
 * @since 0.1.0
 */
export * from "./Sandbox.js"
export * from "./SandboxError.js"
