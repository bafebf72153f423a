/**
 * The latest committed sequence of each stream known to this process, with a way to wait for
 * it to move. Appends in this process, Postgres notifications and polls all publish here;
 * subscribers wait here. Level-triggered: a head published before anyone waits is not missed.
 */
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/** A waiting subscriber: takes a published head and says whether it is done waiting. */
type Waiter = (head: number) => boolean

interface Entry {
  head: number
  readonly waiters: Set<Waiter>
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
      found = { head: 0, waiters: new Set() }
      entries.set(streamId, found)
    }
    return found
  }
  const publish = (streamId: string, head: number): void => {
    const found = entry(streamId)
    if (head <= found.head) return
    found.head = head
    for (const waiter of found.waiters) if (waiter(head)) found.waiters.delete(waiter)
  }
  // Every wake-up of every subscriber passes here: one callback and at most one timer per wait,
  // not the fibers `Effect.timeoutOption` forks for each.
  const waitBeyond = (streamId: string, after: number, timeout: Option.Option<Duration.DurationInput>) =>
    Effect.suspend(() => {
      const found = entry(streamId)
      if (found.head > after) return Effect.succeed(Option.some(found.head))
      return Effect.async<Option.Option<number>>((resume) => {
        let timer: ReturnType<typeof setTimeout> | undefined
        const waiter: Waiter = (head) => {
          if (head <= after) return false
          if (timer !== undefined) clearTimeout(timer)
          resume(Effect.succeed(Option.some(head)))
          return true
        }
        found.waiters.add(waiter)
        if (Option.isSome(timeout)) {
          timer = setTimeout(
            () => {
              found.waiters.delete(waiter)
              resume(Effect.succeedNone)
            },
            Duration.toMillis(Duration.decode(timeout.value))
          )
        }
        return Effect.sync(() => {
          found.waiters.delete(waiter)
          if (timer !== undefined) clearTimeout(timer)
        })
      })
    })
  return { publish, current: (streamId) => entries.get(streamId)?.head ?? 0, waitBeyond }
}
