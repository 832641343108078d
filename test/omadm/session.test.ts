import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { OutCommand } from "../../src/omadm/session/types.js";
import {
  ClientStore,
  credentials,
  ENCODINGS,
  makeClient,
  makeDevice,
  makeServer,
  memoryTransport,
  ScriptedApp,
} from "./session-harness.js";

for (const encoding of ENCODINGS) {
  describe(`a 4-package session in ${encoding}`, () => {
    test("md5 both ways: DevInfo, Get with Results, Replace", async () => {
      const c = credentials("md5");
      const tree = makeDevice(c);
      const get: OutCommand = { kind: "Get", items: [{ target: { locUri: "./DevInfo/Mod" } }] };
      const add: OutCommand = {
        kind: "Add",
        items: [{ target: { locUri: "./Vendor/Profile" }, meta: { format: "chr" }, data: "gold" }],
      };
      const app = new ScriptedApp(new ClientStore(c), [[get], [add]]);
      const server = makeServer(app);
      const wire = memoryTransport(server);
      const client = makeClient(tree, wire.transport, { encoding });
      const result = await client.start();
      assert.equal(result.outcome, "completed");
      assert.equal(app.devInfo?.get("./DevInfo/Mod"), "SmartPhone2000");
      const got = app.responseTo(get);
      assert.equal(got?.code, 200);
      assert.equal(got?.results[0]?.items[0]?.data, "SmartPhone2000");
      assert.equal(app.responseTo(add)?.code, 200);
      assert.equal(tree.read("./Vendor/Profile"), "gold");
      assert.deepEqual(app.outcomes, ["completed"]);
      assert.equal(server.sessionCount, 0);
    });
  });
}
