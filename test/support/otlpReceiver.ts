/**
 * A local OTLP/HTTP receiver for tests: listens on 127.0.0.1 (a free port), keeps every
 * `POST /v1/traces` and `/v1/metrics` body (JSON, as dabgent's exporter sends them) with its
 * headers, and answers 200. The decoded spans and metric points come flattened, attributes as
 * plain objects.
 */
import { createServer, type IncomingHttpHeaders } from "node:http"
import type { AddressInfo } from "node:net"

export interface Received {
  readonly path: string
  readonly contentType: string | undefined
  readonly headers: IncomingHttpHeaders
  readonly raw: string
  readonly body: unknown
}

export type AttributeValue = string | number | boolean | undefined

export interface ReceivedSpan {
  readonly name: string
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId: string | undefined
  readonly attributes: Readonly<Record<string, AttributeValue>>
  readonly serviceName: AttributeValue
}

export interface ReceivedPoint {
  readonly metric: string
  readonly unit: string | undefined
  readonly kind: "sum" | "histogram" | "gauge"
  /** The counter value, or the histogram's sum. */
  readonly value: number
  /** The histogram's count (1 for a counter point). */
  readonly count: number
  readonly attributes: Readonly<Record<string, AttributeValue>>
}

interface OtlpAttribute {
  readonly key: string
  readonly value: {
    readonly stringValue?: string
    readonly intValue?: number | string
    readonly doubleValue?: number
    readonly boolValue?: boolean
  }
}

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null
const arrayOf = (u: unknown): ReadonlyArray<unknown> => (Array.isArray(u) ? u : [])

const attributesOf = (u: unknown): Record<string, AttributeValue> => {
  const out: Record<string, AttributeValue> = {}
  for (const item of arrayOf(u)) {
    if (!isRecord(item) || typeof item.key !== "string" || !isRecord(item.value)) continue
    const value = item.value as OtlpAttribute["value"]
    out[item.key] =
      value.stringValue ??
      (value.intValue === undefined ? undefined : Number(value.intValue)) ??
      value.doubleValue ??
      value.boolValue
  }
  return out
}

const numberOf = (u: unknown): number => (typeof u === "number" ? u : typeof u === "string" ? Number(u) : 0)

export const start = async () => {
  const received: Array<Received> = []
  const server = createServer((request, response) => {
    const chunks: Array<Buffer> = []
    request.on("data", (chunk: Buffer) => chunks.push(chunk))
    request.on("end", () => {
      const raw = Buffer.concat(chunks).toString("utf8")
      let body: unknown = undefined
      try {
        body = JSON.parse(raw)
      } catch {
        body = undefined
      }
      received.push({
        path: request.url ?? "",
        contentType: request.headers["content-type"],
        headers: request.headers,
        raw,
        body
      })
      response.writeHead(200, { "content-type": "application/json" })
      response.end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const port = (server.address() as AddressInfo).port

  const spans = (): ReadonlyArray<ReceivedSpan> =>
    received
      .filter((r) => r.path === "/v1/traces")
      .flatMap((r) =>
        arrayOf(isRecord(r.body) ? r.body.resourceSpans : undefined).flatMap((resourceSpans) => {
          if (!isRecord(resourceSpans)) return []
          const resource = attributesOf(
            isRecord(resourceSpans.resource) ? resourceSpans.resource.attributes : []
          )
          return arrayOf(resourceSpans.scopeSpans).flatMap((scopeSpans) =>
            arrayOf(isRecord(scopeSpans) ? scopeSpans.spans : undefined).flatMap(
              (span): Array<ReceivedSpan> =>
                isRecord(span) && typeof span.name === "string"
                  ? [
                      {
                        name: span.name,
                        traceId: String(span.traceId),
                        spanId: String(span.spanId),
                        parentSpanId: typeof span.parentSpanId === "string" ? span.parentSpanId : undefined,
                        attributes: attributesOf(span.attributes),
                        serviceName: resource["service.name"]
                      }
                    ]
                  : []
            )
          )
        })
      )

  /** The points of the last metrics export (metrics are cumulative: it holds the totals). */
  const points = (): ReadonlyArray<ReceivedPoint> =>
    received
      .filter((r) => r.path === "/v1/metrics")
      .slice(-1)
      .flatMap((r) =>
        arrayOf(isRecord(r.body) ? r.body.resourceMetrics : undefined).flatMap((resourceMetrics) =>
          arrayOf(isRecord(resourceMetrics) ? resourceMetrics.scopeMetrics : undefined).flatMap(
            (scopeMetrics) =>
              arrayOf(isRecord(scopeMetrics) ? scopeMetrics.metrics : undefined).flatMap(
                (metric): Array<ReceivedPoint> => {
                  if (!isRecord(metric) || typeof metric.name !== "string") return []
                  const name = metric.name
                  const unit = typeof metric.unit === "string" ? metric.unit : undefined
                  const data = (["sum", "histogram", "gauge"] as const).find((kind) => isRecord(metric[kind]))
                  if (data === undefined) return []
                  const section = metric[data]
                  return arrayOf(isRecord(section) ? section.dataPoints : undefined).flatMap((point) =>
                    isRecord(point)
                      ? [
                          {
                            metric: name,
                            unit,
                            kind: data,
                            value:
                              data === "histogram"
                                ? numberOf(point.sum)
                                : numberOf(point.asDouble ?? point.asInt),
                            count: data === "histogram" ? numberOf(point.count) : 1,
                            attributes: attributesOf(point.attributes)
                          }
                        ]
                      : []
                  )
                }
              )
          )
        )
      )

  return {
    url: `http://127.0.0.1:${port}`,
    received: (): ReadonlyArray<Received> => received,
    spans,
    points,
    close: () => new Promise<void>((resolve) => server.close(() => resolve()))
  }
}

export type OtlpReceiver = Awaited<ReturnType<typeof start>>
