/**
 * The latest committed sequence of each stream known to this process, with a way to wait for
 * it to move. Appends in this process, Postgres notifications and polls all publish here;
 * subscribers wait here. Level-triggered: a head published before anyone waits is not missed.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as FiberId from "effect/FiberId"
import * as Option from "effect/Option"
import type * as Duration from "effect/Duration"

interface Entry {
  head: number
  changed: Deferred.Deferred<void>
}

export interface StreamHeads {
  /** Records that `streamId` has committed up to `head` (ignored if not newer). */
  readonly publish: (streamId: string, head: number) => void
  /** The known head of a stream, 0 when nothing is known. */
  readonly current: (streamId: string) => number
  /**
   * Waits until the known head passes `after`; gives up after `timeout` with `None`, so the
   * caller can poll the database as a fallback.
   */
  readonly waitBeyond: (
    streamId: string,
    after: number,
    timeout: Option.Option<Duration.DurationInput>
  ) => Effect.Effect<Option.Option<number>>
}

export const make = (): StreamHeads => {
  const entries = new Map<string, Entry>()
  const entry = (streamId: string): Entry => {
    let found = entries.get(streamId)
    if (found === undefined) {
      found = { head: 0, changed: Deferred.unsafeMake<void>(FiberId.none) }
      entries.set(streamId, found)
    }
    return found
  }
  const publish = (streamId: string, head: number): void => {
    const found = entry(streamId)
    if (head <= found.head) return
    const previous = found.changed
    found.head = head
    found.changed = Deferred.unsafeMake<void>(FiberId.none)
    Deferred.unsafeDone(previous, Effect.void)
  }
  const waitBeyond = (streamId: string, after: number, timeout: Option.Option<Duration.DurationInput>) =>
    Effect.suspend(function loop(): Effect.Effect<Option.Option<number>> {
      const found = entry(streamId)
      if (found.head > after) return Effect.succeed(Option.some(found.head))
      const wait = Deferred.await(found.changed)
      return Option.match(timeout, {
        onNone: () => Effect.flatMap(wait, () => Effect.suspend(loop)),
        onSome: (duration) =>
          Effect.flatMap(Effect.timeoutOption(wait, duration), (woke) =>
            Option.isSome(woke) ? Effect.suspend(loop) : Effect.succeedNone
          )
      })
    })
  return { publish, current: (streamId) => entries.get(streamId)?.head ?? 0, waitBeyond }
}
