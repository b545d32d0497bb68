// The official TypeScript SDK client against the incidents example over
// streamable HTTP with a bearer token. The Go test starts the server and
// sets INCIDENTS_URL and the tokens.
import { test } from "node:test";
import assert from "node:assert/strict";
import { StreamableHTTPClientTransport, StreamableHTTPError } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { exercise, newClient, text } from "./common.mjs";

const url = process.env.INCIDENTS_URL;
const skip = !url && "INCIDENTS_URL is not set";

function transport(token) {
  return new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
}

test("typescript client over streamable HTTP with a bearer token", { skip }, async () => {
  await exercise(async (client) => {
    await client.connect(transport(process.env.INCIDENTS_ADMIN_TOKEN));
    return client;
  });
});

test("a wrong bearer token is refused with 401", { skip }, async () => {
  const client = newClient("accept");
  await assert.rejects(client.connect(transport("not-a-token-we-issued-0000")), (err) => {
    assert.ok(err instanceof StreamableHTTPError, `a transport error, got ${err}`);
    assert.equal(err.code, 401);
    assert.match(err.message, /invalid bearer token/);
    return true;
  });
  await client.close();
});

test("a token without incidents:admin cannot delete, even with approval", { skip }, async () => {
  const client = newClient("accept");
  await client.connect(transport(process.env.INCIDENTS_READER_TOKEN));
  try {
    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["get_incident", "list_incidents", "search_incidents"],
      "tools/list shows only what the token's scopes allow");
    // The transport refuses the call before the server (403 with
    // insufficient_scope), so no approval prompt is ever shown.
    await assert.rejects(
      client.callTool({ name: "delete_incident", arguments: { id: "INC-1006", reason: "duplicate" } }),
      (err) => {
        assert.ok(err instanceof StreamableHTTPError, `a transport error, got ${err}`);
        assert.equal(err.code, 403);
        assert.match(err.message, /incidents:admin/);
        return true;
      },
    );
    assert.equal(client.prompts, 0, "no approval prompt for a caller who lacks the scope");
    const still = await client.callTool({ name: "get_incident", arguments: { id: "INC-1006" } });
    assert.ok(!still.isError, text(still));
  } finally {
    await client.close();
  }
});
