// The official TypeScript SDK client against the incidents example over
// stdio. INCIDENTS_BIN is the built example; the Go test sets it.
import { test } from "node:test";
import os from "node:os";
import path from "node:path";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { exercise } from "./common.mjs";

const bin = process.env.INCIDENTS_BIN;

test("typescript client over stdio", { skip: !bin && "INCIDENTS_BIN is not set" }, async () => {
  const dir = process.env.INTEROP_TMP ?? os.tmpdir();
  let n = 0;
  await exercise(async (client) => {
    n++;
    // A fresh server per client, as an agent launches it.
    const transport = new StdioClientTransport({
      command: bin,
      args: ["-audit", path.join(dir, `stdio-audit-${n}.jsonl`)],
      stderr: "inherit",
    });
    await client.connect(transport);
    return client;
  });
});
