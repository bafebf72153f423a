import { describe, expect, it } from "@effect/vitest"
import { PlanParser, TaskSpec } from "../../src/planner/index.js"

const plain = (tasks: ReadonlyArray<TaskSpec>) =>
  tasks.map((task) => ({
    id: task.id,
    description: task.description,
    kind: task.kind,
    dependencies: task.dependencies
  }))

describe("PlanParser.parse", () => {
  describe("JSON", () => {
    it("reads the whole text as a plan", () => {
      const parsed = PlanParser.parse(
        JSON.stringify({
          tasks: [
            { id: "setup", description: "Create the project", kind: "tool_call", dependencies: [] },
            { id: "docs", description: "Write the README", kind: "processing", dependencies: ["setup"] }
          ]
        })
      )
      expect(parsed.format).toBe("json")
      expect(parsed.warnings).toEqual([])
      expect(parsed.tasks[0]).toBeInstanceOf(TaskSpec)
      expect(plain(parsed.tasks)).toEqual([
        { id: "setup", description: "Create the project", kind: "tool_call", dependencies: [] },
        { id: "docs", description: "Write the README", kind: "processing", dependencies: ["setup"] }
      ])
    })

    it("finds a ```json block surrounded by prose", () => {
      const text = [
        "Sure! Here is the plan:",
        "",
        "```json",
        '{"tasks": [{"id": "1", "description": "Run the tests", "kind": "tool_call", "dependencies": []}]}',
        "```",
        "",
        "Let me know if {anything} should change."
      ].join("\n")
      const parsed = PlanParser.parse(text)
      expect(parsed.format).toBe("json-fenced")
      expect(plain(parsed.tasks)).toEqual([
        { id: "1", description: "Run the tests", kind: "tool_call", dependencies: [] }
      ])
    })

    it("prefers a json-tagged block, and accepts an untagged block that holds the tasks", () => {
      const tagged = PlanParser.parse(
        '```\nnot it\n```\n```json\n{"tasks": [{"description": "A", "kind": "processing"}]}\n```'
      )
      expect(tagged.format).toBe("json-fenced")
      expect(tagged.tasks.map((task) => task.description)).toEqual(["A"])

      const untagged = PlanParser.parse('Plan:\n```\n{"tasks": [{"description": "B", "kind": "tool"}]}\n```')
      expect(untagged.format).toBe("json-fenced")
      expect(plain(untagged.tasks)).toEqual([
        { id: "1", description: "B", kind: "tool_call", dependencies: [] }
      ])
    })

    it("finds the first balanced object mentioning tasks inside prose, braces in strings included", () => {
      const parsed = PlanParser.parse(
        'I think {this} is it: {"tasks": [{"id": 1, "description": "print \\"{}\\" in main.ts", "kind": "tool_call"}]} done.'
      )
      expect(parsed.format).toBe("json")
      expect(plain(parsed.tasks)).toEqual([
        { id: "1", description: 'print "{}" in main.ts', kind: "tool_call", dependencies: [] }
      ])
    })

    it("skips code braces and a wrapper object to find the plan in prose", () => {
      const code = "```ts\nfunction f() { if (x) { return { a: 1 } } }\n```"
      const parsed = PlanParser.parse(
        `${code}\nWrapped: {"plan": {"tasks": [{"id": "1", "description": "refactor f", "kind": "tool_call"}]}}`
      )
      expect(parsed.format).toBe("json")
      expect(parsed.tasks.map((task) => task.description)).toEqual(["refactor f"])
      expect(parsed.warnings).toEqual([expect.stringContaining('not of the form {"tasks": [...]}')])
    })

    it("turns numeric ids and dependencies into strings and numbers missing ids by position", () => {
      const parsed = PlanParser.parse(
        JSON.stringify({
          tasks: [
            { id: 1, description: "one", kind: "processing" },
            { description: "two", kind: "processing", dependencies: [1] },
            { id: 3, description: "three", kind: "processing", dependencies: [1, "2"] }
          ]
        })
      )
      expect(plain(parsed.tasks).map(({ id, dependencies }) => ({ id, dependencies }))).toEqual([
        { id: "1", dependencies: [] },
        { id: "2", dependencies: ["1"] },
        { id: "3", dependencies: ["1", "2"] }
      ])
    })

    it("maps kind aliases case-insensitively and warns about unknown or missing kinds", () => {
      const kinds = [
        "Tool-Call",
        "tool",
        "TOOL_CALL",
        "Processing",
        "analysis",
        "question",
        "Clarify",
        "magic"
      ]
      const parsed = PlanParser.parse(
        JSON.stringify({
          tasks: [
            ...kinds.map((kind, i) => ({ id: `t${i}`, description: kind, kind })),
            { description: "none" }
          ]
        })
      )
      expect(parsed.tasks.map((task) => task.kind)).toEqual([
        "tool_call",
        "tool_call",
        "tool_call",
        "processing",
        "processing",
        "clarification",
        "clarification",
        "processing",
        "processing"
      ])
      expect(parsed.warnings).toHaveLength(2)
      expect(parsed.warnings[0]).toContain('unknown kind "magic"')
      expect(parsed.warnings[1]).toContain("task 9 has no kind")
    })

    it("accepts dependencies as a comma-separated string, depends_on, a bare array and a trailing comma", () => {
      const parsed = PlanParser.parse(
        '[{"id": "a", "description": "A", "kind": "tool_call"}, {"id": "b", "description": "B", "kind": "tool_call", "depends_on": "a"}, {"id": "c", "description": "C", "kind": "tool_call", "dependencies": "a, b",},]'
      )
      expect(parsed.format).toBe("json")
      expect(parsed.tasks.map((task) => task.dependencies)).toEqual([[], ["a"], ["a", "b"]])
    })

    it("skips a task without a description, with a warning, and keeps the others", () => {
      const parsed = PlanParser.parse(
        '{"tasks": [{"id": "1", "kind": "tool_call"}, {"id": "2", "description": "ok", "kind": "tool_call"}]}'
      )
      expect(parsed.tasks.map((task) => task.id)).toEqual(["2"])
      expect(parsed.warnings).toEqual([expect.stringContaining("task 1 has no description")])
    })

    it("returns duplicate ids and cycles as parsed: validation is the caller's", () => {
      const parsed = PlanParser.parse(
        '{"tasks": [{"id": "a", "description": "A", "kind": "processing", "dependencies": ["b"]}, {"id": "b", "description": "B", "kind": "processing", "dependencies": ["a"]}]}'
      )
      expect(parsed.format).toBe("json")
      expect(parsed.tasks.map((task) => task.dependencies)).toEqual([["b"], ["a"]])
    })
  })

  describe("XML", () => {
    it("reads the original's <tasks> form with comma-separated dependencies", () => {
      const text = `Here you go:
<tasks>
  <task>
    <id>1</id>
    <description>Create &lt;App/&gt; in src/App.tsx</description>
    <kind>tool_call</kind>
    <dependencies></dependencies>
  </task>
  <task>
    <id>2</id>
    <description><![CDATA[Explain why <App/> & co. work]]></description>
    <kind>Processing</kind>
    <dependencies>1</dependencies>
  </task>
  <task>
    <id>3</id>
    <description>Ask which port to use</description>
    <kind>clarification</kind>
    <dependencies>1, 2</dependencies>
  </task>
</tasks>`
      const parsed = PlanParser.parse(text)
      expect(parsed.format).toBe("xml")
      expect(parsed.warnings).toEqual([])
      expect(plain(parsed.tasks)).toEqual([
        { id: "1", description: "Create <App/> in src/App.tsx", kind: "tool_call", dependencies: [] },
        { id: "2", description: "Explain why <App/> & co. work", kind: "processing", dependencies: ["1"] },
        { id: "3", description: "Ask which port to use", kind: "clarification", dependencies: ["1", "2"] }
      ])
    })

    it("reads nested <dependency> elements, self-closing empty ones and ids as attributes", () => {
      const text = `<tasks>
<task id="a"><description>first</description><kind>tool</kind><dependencies/></task>
<task id="b"><description>second</description><kind>tool_call</kind>
  <dependencies><dependency>a</dependency></dependencies></task>
<task><id>c</id><description>third</description><kind>processing</kind>
  <dependencies><dependency>a</dependency><dependency>b</dependency></dependencies></task>
</tasks>`
      const parsed = PlanParser.parse(text)
      expect(parsed.format).toBe("xml")
      expect(plain(parsed.tasks)).toEqual([
        { id: "a", description: "first", kind: "tool_call", dependencies: [] },
        { id: "b", description: "second", kind: "tool_call", dependencies: ["a"] },
        { id: "c", description: "third", kind: "processing", dependencies: ["a", "b"] }
      ])
    })

    it('tolerates a missing </tasks> (a cut-off answer), space-separated dependencies and "none"', () => {
      const parsed = PlanParser.parse(
        [
          "<tasks>",
          "<task><id>1</id><description>x</description><kind>processing</kind><dependencies>none</dependencies></task>",
          "<task><id>2</id><description>y</description><kind>processing</kind></task>",
          "<task><id>3</id><description>z</description><kind>processing</kind><dependencies>1 2</dependencies></task>"
        ].join("\n")
      )
      expect(parsed.format).toBe("xml")
      expect(parsed.tasks.map((task) => [task.id, task.dependencies])).toEqual([
        ["1", []],
        ["2", []],
        ["3", ["1", "2"]]
      ])
    })
  })

  describe("fallback", () => {
    it("turns text with no plan into one processing task with the whole text and a warning", () => {
      const text = "I am not sure what you mean. Could you explain {more}?"
      const parsed = PlanParser.parse(text)
      expect(parsed.format).toBe("fallback")
      expect(plain(parsed.tasks)).toEqual([
        { id: "1", description: text, kind: "processing", dependencies: [] }
      ])
      expect(parsed.warnings.at(-1)).toContain("no plan found")
    })

    it("falls back on broken JSON and an empty plan, naming what was tried", () => {
      const broken = PlanParser.parse('```json\n{"tasks": [ {"id": \n```')
      expect(broken.format).toBe("fallback")
      expect(broken.warnings.some((warning) => warning.includes("invalid JSON"))).toBe(true)

      const empty = PlanParser.parse('{"tasks": []}')
      expect(empty.format).toBe("fallback")
      expect(empty.warnings[0]).toContain("the plan has no task")
    })

    it("falls back when every task lacks a description", () => {
      const parsed = PlanParser.parse("<tasks><task><id>1</id><kind>tool_call</kind></task></tasks>")
      expect(parsed.format).toBe("fallback")
      expect(parsed.warnings[0]).toContain("no description")
    })

    it("builds the fallback plan for any input", () => {
      const plan = PlanParser.fallback("build it", "why")
      expect(plan).toMatchObject({ format: "fallback", warnings: ["why"] })
      expect(plain(plan.tasks)).toEqual([
        { id: "1", description: "build it", kind: "processing", dependencies: [] }
      ])
    })
  })

  it("normalizeKind leaves unknown spellings undefined", () => {
    expect(PlanParser.normalizeKind(" Ask User ")).toBe("clarification")
    expect(PlanParser.normalizeKind("constructor")).toBeUndefined()
  })
})
