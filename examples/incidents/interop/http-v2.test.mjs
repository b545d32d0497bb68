// The official TypeScript SDK v2 client (@modelcontextprotocol/client),
// which speaks protocol 2026-07-28, against the incidents example's default
// HTTP handler: the same endpoint that serves the v1 client with sessions
// (http.test.mjs) serves this one statelessly. The Go test starts the
// server and sets INCIDENTS_URL and the tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { Client, StreamableHTTPClientTransport } from "@modelcontextprotocol/client";
import { TOOLS } from "./common.mjs";

const url = process.env.INCIDENTS_URL;
const skip = !url && "INCIDENTS_URL is not set";

// client2 is a v2 client pinned to 2026-07-28 (connect fails unless the
// server offers it) whose user answers every approval prompt with `answer`
// and counts the prompts; its HTTP exchanges are recorded. mode "auto"
// probes server/discover and falls back to initialize.
async function client2(token, answer = "accept", mode = { pin: "2026-07-28" }) {
  const seen = [];
  const fetchRecording = async (input, init) => {
    const res = await fetch(input, init);
    seen.push({ headers: new Headers(init?.headers), status: res.status, sessionId: res.headers.get("mcp-session-id") });
    return res;
  };
  const client = new Client({ name: "ts-interop-v2", version: "2.0.0" },
    { capabilities: { elicitation: {} }, versionNegotiation: { mode } });
  client.prompts = 0;
  client.setRequestHandler("elicitation/create", async () => {
    client.prompts++;
    return answer === "accept" ? { action: "accept", content: { confirm: true } } : { action: answer };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
    fetch: fetchRecording,
  }));
  client.seen = seen;
  return client;
}

function text(res) {
  return (res.content ?? []).filter((c) => c.type === "text").map((c) => c.text).join("");
}

test("v2 client negotiates 2026-07-28 on the default handler, without a session", { skip }, async () => {
  const client = await client2(process.env.INCIDENTS_ADMIN_TOKEN);
  try {
    assert.equal(client.getNegotiatedProtocolVersion(), "2026-07-28");
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), TOOLS);
    const res = await client.callTool({ name: "get_incident", arguments: { id: "INC-1002" } });
    assert.ok(!res.isError, text(res));
    assert.equal(JSON.parse(text(res)).id, "INC-1002");
    const bad = await client.callTool({ name: "get_incident", arguments: { id: 1002 } });
    assert.ok(bad.isError);
    assert.match(text(bad), /arguments\.id: must be a string/);
    for (const s of client.seen) {
      assert.equal(s.sessionId, null, "no Mcp-Session-Id on a 2026-07-28 response");
      assert.equal(s.headers.get("mcp-session-id"), null, "the client sends none");
    }
    assert.ok(client.seen.some((s) => s.headers.get("mcp-method") === "tools/call"), "standard headers are sent");
  } finally {
    await client.close();
  }
  const auto = await client2(process.env.INCIDENTS_ADMIN_TOKEN, "accept", "auto");
  try {
    assert.equal(auto.getNegotiatedProtocolVersion(), "2026-07-28", "auto negotiation finds 2026-07-28, no fallback");
  } finally {
    await auto.close();
  }
});

test("v2 client: an approval arrives as input_required and the retry deletes", { skip }, async () => {
  const accepting = await client2(process.env.INCIDENTS_ADMIN_TOKEN, "accept");
  try {
    const res = await accepting.callTool({ name: "delete_incident", arguments: { id: "INC-1007", reason: "duplicate" } });
    assert.ok(!res.isError, text(res));
    assert.equal(JSON.parse(text(res)).deleted, "INC-1007");
    assert.equal(accepting.prompts, 1, "the user was asked once");
  } finally {
    await accepting.close();
  }
  const declining = await client2(process.env.INCIDENTS_ADMIN_TOKEN, "decline");
  try {
    const res = await declining.callTool({ name: "delete_incident", arguments: { id: "INC-1008", reason: "duplicate" } });
    assert.ok(res.isError, "a declined delete is refused");
    const still = await declining.callTool({ name: "get_incident", arguments: { id: "INC-1008" } });
    assert.ok(!still.isError, "the incident still exists after the declined delete");
  } finally {
    await declining.close();
  }
});

test("v2 client: lists differ by caller and are private; a missing scope is 403", { skip }, async () => {
  const reader = await client2(process.env.INCIDENTS_READER_TOKEN);
  try {
    const list = await reader.listTools();
    assert.deepEqual(list.tools.map((t) => t.name).sort(), ["get_incident", "list_incidents", "search_incidents"],
      "tools/list shows only what the token's scopes allow");
    await assert.rejects(reader.callTool({ name: "delete_incident", arguments: { id: "INC-1009", reason: "duplicate" } }),
      (err) => { assert.match(String(err), /403|incidents:admin/); return true; });
    assert.equal(reader.prompts, 0, "no approval prompt for a caller who lacks the scope");
  } finally {
    await reader.close();
  }
});

test("a raw 2026-07-28 tools/list is marked private", { skip }, async () => {
  const res = await fetch(url, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${process.env.INCIDENTS_READER_TOKEN}`, "Content-Type": "application/json",
      Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28", "Mcp-Method": "tools/list",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list", params: { _meta: {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
      "io.modelcontextprotocol/clientCapabilities": {},
    } } }),
  });
  assert.equal(res.status, 200);
  const body = await res.text();
  const json = JSON.parse(body.startsWith("{") ? body : body.split("\n").find((l) => l.startsWith("data: ")).slice(6));
  assert.equal(json.result.cacheScope, "private");
  assert.equal(typeof json.result.ttlMs, "number");
  assert.equal(res.headers.get("mcp-session-id"), null);
});

test("v2 client mirrors list_incidents' service into Mcp-Param-Service; a raw call whose header disagrees is refused", { skip }, async () => {
  const client = await client2(process.env.INCIDENTS_READER_TOKEN);
  try {
    const { tools } = await client.listTools();
    const list = tools.find((t) => t.name === "list_incidents");
    assert.equal(list.inputSchema.properties.service["x-mcp-header"], "Service", "the schema carries the annotation");
    const res = await client.callTool({ name: "list_incidents", arguments: { service: "checkout" } });
    assert.ok(!res.isError, text(res));
    const call = client.seen.findLast((s) => s.headers.get("mcp-method") === "tools/call");
    assert.equal(call.headers.get("mcp-param-service"), "checkout", "the client sent the header itself");
  } finally {
    await client.close();
  }
  // A gateway routing on the header must be able to trust it: a call whose
  // header names another service than the body is refused before it runs.
  const res = await fetch(url, {
    method: "POST",
    headers: {
      Authorization: `Bearer ${process.env.INCIDENTS_READER_TOKEN}`, "Content-Type": "application/json",
      Accept: "application/json, text/event-stream", "MCP-Protocol-Version": "2026-07-28",
      "Mcp-Method": "tools/call", "Mcp-Name": "list_incidents", "Mcp-Param-Service": "payments",
    },
    body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "list_incidents", arguments: { service: "checkout" }, _meta: {
      "io.modelcontextprotocol/protocolVersion": "2026-07-28",
      "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" },
      "io.modelcontextprotocol/clientCapabilities": {},
    } } }),
  });
  assert.equal(res.status, 400);
  const body = await res.json();
  assert.equal(body.error.code, -32020);
  assert.match(body.error.message, /Mcp-Param-Service does not match/);
});
