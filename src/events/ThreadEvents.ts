/**
 * The `thread.*` event family.
 *
 * @since 0.1.0
 */
import { ThreadEvent } from "../thread/ThreadEvent.js"
import * as EventFamily from "./EventFamily.js"

/**
 * @since 0.1.0
 * @category families
 */
export const ThreadEvents = EventFamily.make("thread", ThreadEvent)
