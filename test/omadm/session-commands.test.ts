import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Item } from "../../src/omadm/model/message.js";
import type { DmClientOptions } from "../../src/omadm/session/client.js";
import type { OutCommand } from "../../src/omadm/session/types.js";
import type { UiRequest } from "../../src/omadm/session/ui-alerts.js";
import type { DmTree } from "../../src/omadm/tree/dm-tree.js";
import {
  ClientStore,
  credentials,
  ENCODINGS,
  makeClient,
  makeDevice,
  makeServer,
  memoryTransport,
  ScriptedApp,
  statusesOf,
} from "./session-harness.js";

const target = (uri: string, data?: string, format = "chr"): Item => ({
  target: { locUri: uri },
  ...(data !== undefined ? { meta: { format }, data } : {}),
});

async function session(
  script: OutCommand[][],
  opts: {
    prepare?: (tree: DmTree) => void;
    client?: Partial<DmClientOptions>;
    encoding?: "xml" | "wbxml";
  } = {},
) {
  const c = credentials("md5");
  const tree = makeDevice(c);
  opts.prepare?.(tree);
  const app = new ScriptedApp(new ClientStore(c), script);
  const server = makeServer(app);
  const wire = memoryTransport(server);
  const client = makeClient(tree, wire.transport, {
    encoding: opts.encoding ?? "xml",
    ...opts.client,
  });
  const result = await client.start();
  return { tree, app, wire, result, server, client };
}

const code = (app: ScriptedApp, cmd: OutCommand) => app.responseTo(cmd)?.code;

for (const encoding of ENCODINGS) {
  test(`every command in one session (${encoding})`, async () => {
    const execs: Array<{ uri: string; correlator: string | undefined; data: unknown }> = [];
    const display: OutCommand = { kind: "Alert", data: "1100", items: [{}, { data: "Updating" }] };
    const add: OutCommand = { kind: "Add", items: [target("./Vendor/A", "a")] };
    const replace: OutCommand = { kind: "Replace", items: [target("./Vendor/A", "b")] };
    const copy: OutCommand = {
      kind: "Copy",
      items: [{ target: { locUri: "./Vendor/B" }, source: { locUri: "./Vendor/A" } }],
    };
    const get: OutCommand = { kind: "Get", items: [target("./Vendor/B"), target("./DevInfo/Man")] };
    const exec: OutCommand = {
      kind: "Exec",
      correlator: "corr-1",
      item: { target: { locUri: "./Vendor/Run" }, data: "go" },
    };
    const seqAdd: OutCommand = { kind: "Add", items: [target("./Vendor/S", "s")] };
    const seqDelete: OutCommand = { kind: "Delete", items: [target("./Vendor/A")] };
    const sequence: OutCommand = { kind: "Sequence", commands: [seqAdd, seqDelete] };
    const atomicAdd: OutCommand = { kind: "Add", items: [target("./Vendor/T", "t")] };
    const atomic: OutCommand = { kind: "Atomic", commands: [atomicAdd] };
    const later: OutCommand = { kind: "Delete", items: [target("./Vendor/B")] };
    const { tree, app, result } = await session(
      [[display, add, replace, copy, get, exec, sequence, atomic], [later]],
      {
        encoding,
        prepare: (t) => {
          t.setLeaf("./Vendor/Run", "", { format: "chr", acl: "Exec=dmguard-carrier" });
          t.registerExec("./Vendor/Run", (r) => {
            execs.push({ uri: r.uri, correlator: r.correlator, data: r.data });
            return 200;
          });
        },
      },
    );
    assert.equal(result.outcome, "completed");
    for (const cmd of [
      display,
      add,
      replace,
      copy,
      get,
      exec,
      sequence,
      seqAdd,
      seqDelete,
      atomic,
      atomicAdd,
      later,
    ]) {
      assert.equal(code(app, cmd), 200, JSON.stringify(cmd));
    }
    const results = app.responseTo(get)!.results;
    assert.deepEqual(
      results.flatMap((r) => r.items.map((i) => [i.source?.locUri, i.data])),
      [
        ["./Vendor/B", "b"],
        ["./DevInfo/Man", "Device Factory, Inc."],
      ],
    );
    assert.deepEqual(execs, [{ uri: "./Vendor/Run", correlator: "corr-1", data: "go" }]);
    assert.equal(tree.exists("./Vendor/A"), false);
    assert.equal(tree.exists("./Vendor/B"), false);
    assert.equal(tree.read("./Vendor/S"), "s");
    assert.equal(tree.read("./Vendor/T"), "t");
    // Package 1 DevInfo reached the server.
    assert.equal(app.devInfo?.get("./DevInfo/DevId"), "IMEI:493005100592800");
    assert.equal(app.devInfo?.get("./DevInfo/Lang"), "en-US");
    assert.equal(app.devInfo?.get("./DevInfo/DmV"), "1.2");
  });
}

describe("status codes from the tree pass through", () => {
  test("404 not found, 418 already exists, 405 not allowed, 425 permission denied", async () => {
    const missing: OutCommand = { kind: "Get", items: [target("./Vendor/Nope")] };
    const twice: OutCommand = { kind: "Add", items: [target("./DevInfo/Man", "x")] };
    const permanent: OutCommand = { kind: "Delete", items: [target("./DevInfo/Man")] };
    const forbidden: OutCommand = { kind: "Replace", items: [target("./DevInfo/Mod", "x")] };
    const { app, result } = await session([[missing, twice, permanent, forbidden]]);
    assert.equal(result.outcome, "completed");
    assert.equal(code(app, missing), 404);
    assert.equal(app.responseTo(missing)?.results.length, 0);
    assert.equal(code(app, twice), 418);
    assert.equal(code(app, permanent), 405);
    assert.ok([405, 425].includes(code(app, forbidden)!));
  });

  test("items of one command with different outcomes get a Status each", async () => {
    const get: OutCommand = {
      kind: "Get",
      items: [target("./DevInfo/Mod"), target("./Vendor/Nope")],
    };
    const { wire } = await session([[get]]);
    const pkg3 = wire.log[2]!.message;
    const getStatuses = statusesOf(pkg3).filter((s) => s.cmd === "Get");
    assert.deepEqual(
      getStatuses.map((s) => [s.targetRefs, s.code]),
      [
        [["./DevInfo/Mod"], 200],
        [["./Vendor/Nope"], 404],
      ],
    );
  });
});

describe("Atomic", () => {
  test("a failing member rolls everything back: 507, 216 for the done, 215 for the rest", async () => {
    const a: OutCommand = { kind: "Add", items: [target("./Vendor/X", "1")] };
    const b: OutCommand = { kind: "Add", items: [target("./DevInfo/Man", "dup")] };
    const c: OutCommand = { kind: "Add", items: [target("./Vendor/Y", "2")] };
    const atomic: OutCommand = { kind: "Atomic", commands: [a, b, c] };
    const { app, tree } = await session([[atomic]]);
    assert.equal(code(app, atomic), 507);
    assert.equal(code(app, a), 216);
    assert.equal(code(app, b), 418);
    assert.equal(code(app, c), 215);
    assert.equal(tree.exists("./Vendor/X"), false);
    assert.equal(tree.exists("./Vendor/Y"), false);
  });

  test("a rollback that fails is 516", async () => {
    const a: OutCommand = { kind: "Add", items: [target("./Vendor/X", "1")] };
    const b: OutCommand = { kind: "Get", items: [target("./Vendor/Missing")] };
    const atomic: OutCommand = { kind: "Atomic", commands: [a, b] };
    const { app } = await session([[atomic]], {
      prepare: (t) => {
        t.restore = () => {
          throw new Error("flash write failed");
        };
      },
    });
    assert.equal(code(app, atomic), 516);
    assert.equal(code(app, a), 200);
    assert.equal(code(app, b), 404);
  });

  test("a confirmation answered no inside Atomic fails it", async () => {
    const confirm: OutCommand = { kind: "Alert", data: "1101", items: [{}, { data: "Apply?" }] };
    const a: OutCommand = { kind: "Add", items: [target("./Vendor/X", "1")] };
    const atomic: OutCommand = { kind: "Atomic", commands: [a, confirm] };
    const { app, tree } = await session([[atomic]]);
    assert.equal(code(app, atomic), 507);
    assert.equal(code(app, a), 216);
    assert.equal(code(app, confirm), 304);
    assert.equal(tree.exists("./Vendor/X"), false);
  });
});

describe("the application's veto hook", () => {
  test("answers 425 instead of the tree, and fails an Atomic around it", async () => {
    const profile: OutCommand = { kind: "Add", items: [target("./Vendor/Profile", "p")] };
    const other: OutCommand = { kind: "Add", items: [target("./Vendor/Other", "o")] };
    const inAtomic: OutCommand = { kind: "Add", items: [target("./Vendor/Profile2", "p")] };
    const atomic: OutCommand = {
      kind: "Atomic",
      commands: [{ kind: "Add", items: [target("./Vendor/Z", "z")] }, inAtomic],
    };
    const seen: string[] = [];
    const { app, tree } = await session([[profile, other, atomic]], {
      client: {
        hooks: {
          beforeCommand: async (cmd, item, principal) => {
            seen.push(`${cmd.kind} ${item.target?.locUri} ${principal}`);
            return item.target?.locUri?.startsWith("./Vendor/Profile") ? 425 : undefined;
          },
        },
      },
    });
    assert.equal(code(app, profile), 425);
    assert.equal(code(app, other), 200);
    assert.equal(code(app, atomic), 507);
    assert.equal(code(app, inAtomic), 425);
    assert.equal(tree.exists("./Vendor/Profile"), false);
    assert.equal(tree.exists("./Vendor/Z"), false);
    assert.equal(tree.read("./Vendor/Other"), "o");
    assert.ok(seen.includes("Add ./Vendor/Profile dmguard-carrier"));
  });
});

describe("user interaction alerts", () => {
  const ui = (code: string, ...texts: string[]): OutCommand => ({
    kind: "Alert",
    data: code,
    items: texts.map((t, i) => (i === 0 && t === "" ? {} : { data: t })),
  });

  test("defaults without a person: display 200, confirm 304 unless DR=1", async () => {
    const display = ui("1100", "MINDT=10", "Hello");
    const confirmNo = ui("1101", "", "Proceed?");
    const confirmDefaultYes = ui("1101", "DR=1", "Proceed?");
    const { app } = await session([[display, confirmNo, confirmDefaultYes]]);
    assert.equal(code(app, display), 200);
    assert.equal(code(app, confirmNo), 304);
    assert.equal(code(app, confirmDefaultYes), 200);
  });

  test("the application answers: input text and choices come back in Status Items", async () => {
    const input = ui("1102", "", "Name?");
    const single = ui("1103", "", "Pick one", "CNN", "Mobilbank", "Games");
    const multi = ui("1104", "", "Pick", "CNN", "Mobilbank", "Games");
    const confirm = ui("1101", "", "OK?");
    const asked: UiRequest[] = [];
    const { app } = await session([[input, single, multi, confirm]], {
      client: {
        hooks: {
          onUserInteraction: (req) => {
            asked.push(req);
            if (req.code === 1102) return { input: "CNN" };
            if (req.code === 1103) return { selected: [2] };
            if (req.code === 1104) return { selected: [3, 2] };
            return { accepted: true };
          },
        },
      },
    });
    assert.deepEqual(
      app.responseTo(input)?.items.map((i) => i.data),
      ["CNN"],
    );
    assert.deepEqual(
      app.responseTo(single)?.items.map((i) => i.data),
      ["2"],
    );
    assert.deepEqual(
      app.responseTo(multi)?.items.map((i) => i.data),
      ["3", "2"],
    );
    assert.equal(code(app, confirm), 200);
    assert.deepEqual(asked[1]?.choices, ["CNN", "Mobilbank", "Games"]);
  });

  test("no inside a Sequence bypasses the rest with 215; a cancel stops the message", async () => {
    const confirm = ui("1101", "", "Continue?");
    const skipped: OutCommand = { kind: "Add", items: [target("./Vendor/Skipped", "x")] };
    const sequence: OutCommand = { kind: "Sequence", commands: [confirm, skipped] };
    const after: OutCommand = { kind: "Add", items: [target("./Vendor/After", "x")] };
    const cancel = ui("1102", "", "Name?");
    const afterCancel: OutCommand = { kind: "Add", items: [target("./Vendor/AfterCancel", "x")] };
    const { app, tree } = await session([[sequence, after, cancel, afterCancel]], {
      client: {
        hooks: {
          onUserInteraction: (req) =>
            req.code === 1101 ? { accepted: false } : { cancelled: true },
        },
      },
    });
    assert.equal(code(app, confirm), 304);
    assert.equal(code(app, skipped), 215);
    assert.equal(code(app, sequence), 200);
    assert.equal(code(app, after), 200);
    assert.equal(code(app, cancel), 214);
    assert.equal(code(app, afterCancel), 215);
    assert.equal(tree.exists("./Vendor/Skipped"), false);
    assert.equal(tree.exists("./Vendor/AfterCancel"), false);
  });
});

describe("alerts", () => {
  test("a Generic Alert (1226) in Package 1 reaches the application with its Correlator, Meta and Source", async () => {
    const c = credentials("md5");
    const tree = makeDevice(c);
    const app = new ScriptedApp(new ClientStore(c));
    app.alertStatus = 202;
    const wire = memoryTransport(makeServer(app));
    const statuses: number[] = [];
    const client = makeClient(tree, wire.transport, {
      hooks: { onServerStatus: (cmd, st) => void (cmd.kind === "Alert" && statuses.push(st.code)) },
    });
    client.queueGenericAlert({
      correlator: "abc123",
      items: [
        {
          source: { locUri: "./FUMO/1/Update" },
          meta: {
            type: "org.openmobilealliance.dm.firmwareupdate.downloadandupdate",
            format: "int",
            mark: "critical",
          },
          data: "200",
        },
      ],
    });
    assert.equal((await client.start()).outcome, "completed");
    assert.equal(app.alerts.length, 1);
    const alert = app.alerts[0]! as { code: number; correlator: string; items: Item[] };
    assert.equal(alert.code, 1226);
    assert.equal(alert.correlator, "abc123");
    assert.equal(alert.items[0]?.source?.locUri, "./FUMO/1/Update");
    assert.equal(
      alert.items[0]?.meta?.type,
      "org.openmobilealliance.dm.firmwareupdate.downloadandupdate",
    );
    assert.equal(alert.items[0]?.meta?.format, "int");
    assert.deepEqual(statuses, [202]);
  });

  test("the server aborts with 1223: the client stops and does not answer", async () => {
    const c = credentials("md5");
    const tree = makeDevice(c);
    const app = new ScriptedApp(new ClientStore(c), [
      [{ kind: "Add", items: [target("./Vendor/X", "1")] }],
    ]);
    app.onStart = (s) => s.abort();
    const wire = memoryTransport(makeServer(app));
    const result = await makeClient(tree, wire.transport).start();
    assert.equal(result.outcome, "aborted-by-peer");
    assert.equal(wire.log.length, 2);
    const pkg2 = wire.log[1]!.message;
    assert.ok(pkg2.body.final);
    assert.ok(pkg2.body.commands.some((x) => x.kind === "Alert" && x.data === "1223"));
    assert.ok(!pkg2.body.commands.some((x) => x.kind === "Add"));
    assert.deepEqual(app.outcomes, ["aborted"]);
    assert.equal(tree.exists("./Vendor/X"), false);
  });
});
