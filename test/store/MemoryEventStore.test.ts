import { EventStore, layerMemory } from "../../src/store/index.js"
import { conformance } from "./conformance.js"

conformance({
  backend: "memory",
  layer: layerMemory,
  connect: EventStore,
  connections: "one shared store"
})
