// Shared helpers for the interop tests: one official TypeScript SDK client
// per test, answering approval prompts as the test asks.
import assert from "node:assert/strict";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { ElicitRequestSchema } from "@modelcontextprotocol/sdk/types.js";

export const TOOLS = ["delete_incident", "get_incident", "list_incidents", "resolve_incident", "search_incidents"];

// newClient returns a client whose user answers every approval prompt with
// `answer` ("accept" confirms, "decline" refuses) and counts the prompts.
export function newClient(answer) {
  const client = new Client({ name: "ts-interop", version: "1.0.0" }, { capabilities: { elicitation: {} } });
  client.prompts = 0;
  client.setRequestHandler(ElicitRequestSchema, async () => {
    client.prompts++;
    return answer === "accept" ? { action: "accept", content: { confirm: true } } : { action: answer };
  });
  return client;
}

export function text(res) {
  return (res.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("");
}

// exercise runs the same script over any transport: list, valid calls,
// invalid calls, and approval accepted then declined.
export async function exercise(connect) {
  const accepting = await connect(newClient("accept"));
  try {
    const { tools } = await accepting.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
    for (const t of tools) {
      assert.ok(t.description, `${t.name} has a description`);
      assert.equal(t.inputSchema.type, "object");
    }
    const ok = async (name, args) => {
      const res = await accepting.callTool({ name, arguments: args });
      assert.ok(!res.isError, `${name}: ${text(res)}`);
      return JSON.parse(text(res));
    };
    const page = await ok("list_incidents", { status: "open", limit: 3 });
    assert.equal(page.incidents.length, 3);
    assert.equal((await ok("get_incident", { id: "INC-1002" })).id, "INC-1002");
    assert.ok((await ok("search_incidents", { query: "canary" })).incidents.length > 0);
    assert.equal((await ok("resolve_incident", { id: "INC-1002", resolution: "rolled back the canary" })).status, "resolved");
    assert.equal(accepting.prompts, 0, "no approval asked for reads and a severity 2 resolve");

    const bad = [
      ["list_incidents", { limit: 101 }, "arguments.limit: must be <= 100"],
      ["get_incident", {}, "arguments.id: is required"],
      ["get_incident", { id: 1002 }, "arguments.id: must be a string"],
      ["get_incident", { id: "INC-1002", verbose: true }, "arguments.verbose: unknown field"],
      ["search_incidents", { query: "x" }, "arguments.query: must be at least 2 characters"],
      ["resolve_incident", { id: "INC-1003" }, "arguments.resolution: is required"],
      ["delete_incident", { id: "INC-1004" }, "arguments.reason: is required"],
      ["delete_incident", { id: "1004", reason: "duplicate" }, "arguments.id: must match the pattern"],
    ];
    for (const [name, args, want] of bad) {
      const res = await accepting.callTool({ name, arguments: args });
      assert.ok(res.isError, `${name} ${JSON.stringify(args)} must be refused`);
      assert.match(text(res), new RegExp(want.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
    }
    assert.equal(accepting.prompts, 0, "invalid arguments are refused before anyone is asked to approve");

    assert.equal((await ok("delete_incident", { id: "INC-1004", reason: "duplicate" })).deleted, "INC-1004");
    assert.equal(accepting.prompts, 1, "the delete was approved in the client");
  } finally {
    await accepting.close();
  }

  const declining = await connect(newClient("decline"));
  try {
    const res = await declining.callTool({ name: "delete_incident", arguments: { id: "INC-1005", reason: "duplicate" } });
    assert.ok(res.isError, "a declined delete is refused");
    assert.equal(declining.prompts, 1);
    const still = await declining.callTool({ name: "get_incident", arguments: { id: "INC-1005" } });
    assert.ok(!still.isError, "the incident still exists after the declined delete");
  } finally {
    await declining.close();
  }
}
