/** A small Server-Sent Events client over fetch, for tests: messages as they arrive, in order. */

export interface SseMessage {
  readonly id?: string
  readonly event: string
  readonly data: string
}

export interface SseConnection {
  readonly status: number
  readonly contentType: string | null
  /** Resolves with the first message (from now on, or already received and not yet taken) that matches. */
  readonly next: (matches: (message: SseMessage) => boolean, timeoutMs?: number) => Promise<SseMessage>
  /** Every comment line received so far (heartbeats). */
  readonly comments: () => ReadonlyArray<string>
  readonly close: () => void
}

export const connect = async (url: string, headers: Record<string, string> = {}): Promise<SseConnection> => {
  const abort = new AbortController()
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: abort.signal
  })
  const pending: Array<SseMessage> = []
  const comments: Array<string> = []
  const waiters = new Set<() => void>()
  let ended = false
  const body = response.body
  if (body !== null) {
    void (async () => {
      const reader = body.pipeThrough(new TextDecoderStream()).getReader()
      let buffer = ""
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          buffer += value
          let end = buffer.indexOf("\n\n")
          while (end !== -1) {
            const block = buffer.slice(0, end)
            buffer = buffer.slice(end + 2)
            let id: string | undefined
            let event = "message"
            const data: Array<string> = []
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) comments.push(line.slice(1).trim())
              else if (line.startsWith("id: ")) id = line.slice(4)
              else if (line.startsWith("event: ")) event = line.slice(7)
              else if (line.startsWith("data: ")) data.push(line.slice(6))
            }
            if (data.length > 0)
              pending.push({ ...(id === undefined ? {} : { id }), event, data: data.join("\n") })
            for (const wake of waiters) wake()
            end = buffer.indexOf("\n\n")
          }
        }
      } catch {
        // aborted by close()
      } finally {
        ended = true
        for (const wake of waiters) wake()
      }
    })()
  }
  const next = (matches: (message: SseMessage) => boolean, timeoutMs = 20_000) =>
    new Promise<SseMessage>((resolve, reject) => {
      const check = () => {
        const index = pending.findIndex(matches)
        if (index !== -1) {
          const [found] = pending.splice(index, 1)
          cleanup()
          if (found !== undefined) resolve(found)
          return
        }
        if (ended) {
          cleanup()
          reject(new Error("the event stream ended before a matching message"))
        }
      }
      const timer = setTimeout(() => {
        cleanup()
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(pending)}`))
      }, timeoutMs)
      const cleanup = () => {
        clearTimeout(timer)
        waiters.delete(check)
      }
      waiters.add(check)
      check()
    })
  return {
    status: response.status,
    contentType: response.headers.get("content-type"),
    next,
    comments: () => comments.slice(),
    close: () => abort.abort()
  }
}
