import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusCode } from "../../src/omadm/status.js";
import { DmTree, type TreeOptions } from "../../src/omadm/tree/index.js";

const SRV = "srv1.example.com";

interface ManualClock {
  (): Date;
  set(iso: string): void;
}

function manualClock(iso = "2024-05-01T12:00:00Z"): ManualClock {
  let now = new Date(iso);
  const clock = (() => now) as ManualClock;
  clock.set = (next: string) => {
    now = new Date(next);
  };
  return clock;
}

/** A tree whose root grants everything to everyone, so tests can focus on one rule. */
function openTree(options: TreeOptions = {}): DmTree {
  return new DmTree({ rootAcl: "Add=*&Delete=*&Exec=*&Get=*&Replace=*", ...options });
}

describe("Add", () => {
  test("adds a leaf and Get returns it with Source, Meta Format/Type and Data (200)", () => {
    const t = openTree();
    assert.equal(t.add("./Vendor", { format: "node" }, SRV), StatusCode.OK);
    assert.equal(
      t.add("./Vendor/Ring", { format: "chr", type: "text/plain", data: "MyOwnRing" }, SRV),
      200,
    );
    const r = t.get("./Vendor/Ring", SRV);
    assert.equal(r.status, 200);
    assert.deepEqual(r.items, [
      {
        source: { locUri: "./Vendor/Ring" },
        meta: { format: "chr", type: "text/plain" },
        data: "MyOwnRing",
      },
    ]);
  });

  test("relative and ./ forms address the same node", () => {
    const t = openTree();
    assert.equal(t.add("Vendor", { format: "node" }, SRV), 200);
    assert.equal(t.add("Vendor/x", { data: "1" }, SRV), 200);
    assert.equal(t.get("./Vendor/x", SRV).items[0]?.data, "1");
    assert.equal(t.add("./Vendor/x", { data: "2" }, SRV), StatusCode.ALREADY_EXISTS);
  });

  test("defaults to MetInf chr and text/plain without Meta", () => {
    const t = openTree();
    t.add("./a", { data: "v" }, SRV);
    assert.deepEqual(t.get("./a", SRV).items[0]?.meta, { format: "chr", type: "text/plain" });
  });

  test("an existing node, or the root, is 418", () => {
    const t = openTree();
    t.add("./a", { data: "v" }, SRV);
    assert.equal(t.add("./a", { data: "w" }, SRV), 418);
    assert.equal(t.add(".", { format: "node" }, SRV), 418);
    assert.equal(t.read("./a"), "v");
  });

  test("a leaf cannot be a parent (405)", () => {
    const t = openTree();
    t.add("./leaf", { data: "v" }, SRV);
    assert.equal(t.add("./leaf/child", { data: "x" }, SRV), StatusCode.COMMAND_NOT_ALLOWED);
  });

  test("implicit Add creates missing interior ancestors", () => {
    const t = openTree();
    assert.equal(t.add("./A/B/C", { format: "int", data: "7" }, SRV), 200);
    assert.equal(t.inspect("./A")?.interior, true);
    assert.equal(t.inspect("./A/B")?.interior, true);
    assert.equal(t.read("./A/B/C"), "7");
    assert.equal(t.nodeCount, 4);
  });

  test("without implicit Add a missing parent is 404", () => {
    const t = openTree({ implicitAdd: false });
    assert.equal(t.add("./A/B", { data: "x" }, SRV), StatusCode.NOT_FOUND);
    assert.equal(t.exists("./A"), false);
  });

  test("properties cannot be added (405)", () => {
    const t = openTree();
    t.add("./a", { data: "v" }, SRV);
    assert.equal(t.add("./a?prop=Title", { data: "x" }, SRV), 405);
    assert.equal(t.add("./b?list=Struct", { data: "x" }, SRV), 405);
  });

  test("an interior node with data is 400", () => {
    const t = openTree();
    assert.equal(t.add("./n", { format: "node", data: "x" }, SRV), StatusCode.BAD_REQUEST);
    assert.equal(t.add("./n", { format: "node", data: "" }, SRV), 200);
  });
});

describe("Format checks", () => {
  const cases: [string, string, number][] = [
    ["int", "42", 200],
    ["int", "-2147483648", 200],
    ["int", "2147483648", 400],
    ["int", "4x", 400],
    ["int", "", 400],
    ["bool", "true", 200],
    ["bool", "false", 200],
    ["bool", "TRUE", 400],
    ["bool", "1", 400],
    ["b64", "SGVsbG8=", 200],
    ["b64", "SGVsbG8", 400],
    ["b64", "SGV$bG8=", 400],
    ["float", "1.5e3", 200],
    ["float", "1.5.3", 400],
    ["date", "2024-05-01", 200],
    ["date", "2024-13-01", 400],
    ["time", "12:30:00Z", 200],
    ["time", "25:00", 400],
    ["null", "", 200],
    ["null", "x", 400],
    ["xml", "<a/>", 200],
    ["Chr", "case-insensitive format name", 200],
    ["jpeg", "x", StatusCode.UNSUPPORTED_MEDIA_TYPE],
  ];
  for (const [format, data, status] of cases) {
    test(`${format} "${data}" → ${status}`, () => {
      const t = openTree();
      assert.equal(t.add("./v", { format, data }, SRV), status);
      assert.equal(t.exists("./v"), status === 200);
    });
  }

  test("b64 keeps its text with line breaks removed", () => {
    const t = openTree();
    assert.equal(t.add("./v", { format: "b64", data: "SGVs\r\nbG8=" }, SRV), 200);
    assert.deepEqual(t.get("./v", SRV).items[0], {
      source: { locUri: "./v" },
      meta: { format: "b64", type: "text/plain" },
      data: "SGVsbG8=",
    });
  });

  test("bin holds bytes; a Get hands out a copy", () => {
    const t = openTree();
    const bytes = new Uint8Array([0, 1, 2, 255]);
    assert.equal(
      t.add("./bin", { format: "bin", type: "application/octet-stream", data: bytes }, SRV),
      200,
    );
    bytes[0] = 9;
    const got = t.get("./bin", SRV).items[0]?.data as Uint8Array;
    assert.deepEqual([...got], [0, 1, 2, 255]);
    got[1] = 9;
    assert.deepEqual([...(t.read("./bin") as Uint8Array)], [0, 1, 2, 255]);
  });

  test("text formats refuse bytes that are not UTF-8 (400)", () => {
    const t = openTree();
    assert.equal(t.add("./v", { format: "chr", data: new Uint8Array([0xff, 0xfe]) }, SRV), 400);
    assert.equal(
      t.add("./v", { format: "chr", data: new TextEncoder().encode("héllo") }, SRV),
      200,
    );
    assert.equal(t.read("./v"), "héllo");
  });
});

describe("Get", () => {
  test("an interior node lists its children '/'-separated with Format node", () => {
    const t = openTree();
    for (const n of ["Default_ring", "Ring1", "Ring2"])
      t.add(`Vendor/Ring_signals/${n}`, { data: n }, SRV);
    const r = t.get("Vendor/Ring_signals", SRV);
    assert.deepEqual(r.items, [
      {
        source: { locUri: "Vendor/Ring_signals" },
        meta: { format: "node" },
        data: "Default_ring/Ring1/Ring2",
      },
    ]);
  });

  test("an interior node without children gives empty data", () => {
    const t = openTree();
    t.add("./empty", { format: "node" }, SRV);
    assert.equal(t.get("./empty", SRV).items[0]?.data, "");
  });

  test("the root lists the top-level nodes", () => {
    const t = openTree();
    t.add("./A", { format: "node" }, SRV);
    t.add("./B", { data: "b" }, SRV);
    assert.equal(t.get(".", SRV).items[0]?.data, "A/B");
  });

  test("an interior node's Type (an MO identifier) travels in Meta", () => {
    const t = openTree();
    t.add("./MO", { format: "node", type: "urn:example:mo:1.0" }, SRV);
    assert.deepEqual(t.get("./MO", SRV).items[0]?.meta, {
      format: "node",
      type: "urn:example:mo:1.0",
    });
  });

  test("a missing node is 404", () => {
    const t = openTree();
    assert.deepEqual(t.get("./nope", SRV), { status: 404, items: [] });
  });
});

describe("Replace", () => {
  test("replaces a leaf's value (200)", () => {
    const t = openTree();
    t.add("./a", { format: "int", data: "1" }, SRV);
    assert.equal(t.replace("./a", { format: "int", data: "2" }, SRV), 200);
    assert.equal(t.read("./a"), "2");
  });

  test("without Meta the node keeps its Format and Type, and the value is checked against them", () => {
    const t = openTree();
    t.add("./a", { format: "int", type: "text/x-count", data: "1" }, SRV);
    assert.equal(t.replace("./a", { data: "x" }, SRV), 400);
    assert.equal(t.replace("./a", { data: "3" }, SRV), 200);
    assert.deepEqual(t.get("./a", SRV).items[0]?.meta, { format: "int", type: "text/x-count" });
  });

  test("a new Meta Format retypes the leaf", () => {
    const t = openTree();
    t.add("./a", { format: "int", data: "1" }, SRV);
    assert.equal(t.replace("./a", { format: "chr", data: "one" }, SRV), 200);
    assert.equal(t.inspect("./a")?.format, "chr");
  });

  test("a missing node is 404", () => {
    assert.equal(openTree().replace("./nope", { data: "x" }, SRV), 404);
  });

  test("an interior node's data is 405, and a leaf cannot become interior (405)", () => {
    const t = openTree();
    t.add("./n", { format: "node" }, SRV);
    t.add("./l", { data: "x" }, SRV);
    assert.equal(t.replace("./n", { data: "x" }, SRV), 405);
    assert.equal(t.replace(".", { format: "node" }, SRV), 405);
    assert.equal(t.replace("./l", { format: "node" }, SRV), 405);
    assert.equal(t.replace("./l?list=Struct", { data: "x" }, SRV), 405);
  });
});

describe("Delete", () => {
  test("removes a node and its whole subtree", () => {
    const t = openTree();
    t.add("./A/B/C", { data: "c" }, SRV);
    t.add("./A/D", { data: "d" }, SRV);
    assert.equal(t.nodeCount, 5);
    assert.equal(t.delete("./A", SRV), 200);
    assert.equal(t.exists("./A"), false);
    assert.equal(t.nodeCount, 1);
    assert.equal(t.get(".", SRV).items[0]?.data, "");
  });

  test("the root, a permanent node and a subtree holding one are 405", () => {
    const t = openTree();
    t.ensureInterior("./MO", { permanent: true });
    t.setLeaf("./Dyn/Perm", "p", { permanent: true });
    assert.equal(t.delete(".", SRV), 405);
    assert.equal(t.delete("./MO", SRV), 405);
    assert.equal(t.delete("./Dyn", SRV), 405);
    assert.equal(t.exists("./Dyn/Perm"), true);
  });

  test("a missing node is 404, a property 405", () => {
    const t = openTree();
    t.add("./a", { data: "x" }, SRV);
    assert.equal(t.delete("./nope", SRV), 404);
    assert.equal(t.delete("./a?prop=Title", SRV), 405);
  });
});

describe("Copy", () => {
  test("copies a leaf to a new node", () => {
    const t = openTree();
    t.add("./src", { format: "int", type: "text/plain", data: "5" }, SRV);
    t.add("./dir", { format: "node" }, SRV);
    assert.equal(t.copy("./dir/dst", "./src", SRV), 200);
    assert.deepEqual(t.get("./dir/dst", SRV).items[0], {
      source: { locUri: "./dir/dst" },
      meta: { format: "int", type: "text/plain" },
      data: "5",
    });
  });

  test("copies a subtree with fresh properties and without permanence", () => {
    const clock = manualClock();
    const t = openTree({ clock });
    t.setLeaf("./A/x", "1", { permanent: true, acl: "Get=*&Replace=*" });
    t.replace("./A/x", { data: "2" }, SRV);
    clock.set("2024-06-01T00:00:00Z");
    assert.equal(t.copy("./B", "./A", SRV), 200);
    const x = t.inspect("./B/x");
    assert.equal(x?.value, "2");
    assert.equal(x?.acl, "");
    assert.equal(x?.permanent, false);
    assert.equal(x?.verNo, 0);
    assert.equal(x?.tstamp, "20240601T000000Z");
    assert.equal(t.nodeCount, 5);
  });

  test("into its own subtree copies the old state once", () => {
    const t = openTree();
    t.add("./A/x", { data: "1" }, SRV);
    assert.equal(t.copy("./A/copy", "./A", SRV), 200);
    assert.deepEqual(t.children("./A/copy"), ["x"]);
  });

  test("an existing leaf target takes the source value", () => {
    const t = openTree();
    t.add("./s", { format: "bool", data: "true" }, SRV);
    t.add("./d", { data: "old" }, SRV);
    assert.equal(t.copy("./d", "./s", SRV), 200);
    assert.equal(t.inspect("./d")?.format, "bool");
    assert.equal(t.read("./d"), "true");
  });

  test("an existing interior target is 418; a missing source or target parent 404", () => {
    const t = openTree();
    t.add("./s", { data: "x" }, SRV);
    t.add("./n", { format: "node" }, SRV);
    assert.equal(t.copy("./n", "./s", SRV), 418);
    assert.equal(t.copy("./t", "./nope", SRV), 404);
    assert.equal(t.copy("./no/parent", "./s", SRV), 404);
    assert.equal(t.copy("./s/child", "./n", SRV), 405);
  });
});

describe("URI rules", () => {
  const bad = [
    "./a/",
    "a//b",
    "./a/../b",
    "./a/./b",
    "/a",
    "./",
    "",
    "a?prop",
    "a?x=y",
    "a\u0000b",
    "a#frag",
  ];
  for (const uri of bad) {
    test(`${JSON.stringify(uri)} is 400`, () => {
      assert.equal(openTree().get(uri, SRV).status, StatusCode.BAD_REQUEST);
    });
  }

  test("over MaxDepth, MaxTotLen or MaxSegLen is 414", () => {
    const t = openTree({ limits: { maxDepth: 3, maxTotLen: 30, maxSegLen: 8 } });
    assert.equal(t.add("./a/b/c", { data: "x" }, SRV), 200);
    assert.equal(t.add("./a/b/c/d", { data: "x" }, SRV), StatusCode.URI_TOO_LONG);
    assert.equal(t.add("./abcdefghi", { data: "x" }, SRV), 414);
    assert.equal(t.get(`./a?prop=${"A".repeat(40)}`, SRV).status, 414);
    assert.equal(t.get("x".repeat(100_000), SRV).status, 414);
  });

  test("0 means unlimited", () => {
    const t = openTree({ limits: { maxDepth: 0, maxTotLen: 0, maxSegLen: 0 } });
    const deep = `./${Array.from({ length: 40 }, (_, i) => `n${i}`).join("/")}`;
    assert.equal(t.add(deep, { data: "x" }, SRV), 200);
  });

  test("URIs are case-sensitive", () => {
    const t = openTree();
    t.add("./Node", { data: "x" }, SRV);
    assert.equal(t.get("./node", SRV).status, 404);
  });
});

describe("device limits", () => {
  test("a tree at MaxNodes answers 420 Device full", () => {
    const t = openTree({ limits: { maxNodes: 3 } });
    assert.equal(t.add("./a", { data: "x" }, SRV), 200);
    assert.equal(t.add("./b/c", { data: "x" }, SRV), StatusCode.DEVICE_FULL);
    assert.equal(t.add("./b", { data: "x" }, SRV), 200);
    assert.equal(t.copy("./c", "./a", SRV), 420);
  });

  test("a value over maxValueBytes is 413", () => {
    const t = openTree({ limits: { maxValueBytes: 8 } });
    assert.equal(t.add("./a", { data: "123456789" }, SRV), StatusCode.REQUEST_ENTITY_TOO_LARGE);
    assert.equal(t.add("./a", { data: "12345678" }, SRV), 200);
    assert.equal(t.replace("./a", { data: "é".repeat(5) }, SRV), 413);
  });
});

describe("Exec", () => {
  test("runs the bound handler with the request and returns its status", () => {
    const t = openTree();
    t.setLeaf("./FUMO/fw1/Update", "");
    const seen: unknown[] = [];
    t.registerExec("./FUMO/*/Update", (req) => {
      seen.push(req);
      return StatusCode.ACCEPTED_FOR_PROCESSING;
    });
    assert.equal(t.exec("FUMO/fw1/Update", "pkg", "corr-1", SRV), 202);
    assert.deepEqual(seen, [
      { uri: "./FUMO/fw1/Update", data: "pkg", correlator: "corr-1", principal: SRV },
    ]);
  });

  test("a handler returning nothing is 200; a throwing or bogus one is 500", () => {
    const t = openTree();
    t.setLeaf("./ok", "");
    t.setLeaf("./boom", "");
    t.setLeaf("./bogus", "");
    t.registerExec("./ok", () => undefined);
    t.registerExec("./boom", () => {
      throw new Error("disk on fire");
    });
    t.registerExec("./bogus", () => 42);
    assert.equal(t.exec("./ok", undefined, undefined, SRV), 200);
    assert.equal(t.exec("./boom", undefined, undefined, SRV), StatusCode.COMMAND_FAILED);
    assert.equal(t.exec("./bogus", undefined, undefined, SRV), 500);
  });

  test("the most specific binding wins, and unbinding removes it", () => {
    const t = openTree();
    t.setLeaf("./X/a/Run", "");
    const unbind = t.registerExec("./X/a/Run", () => 200);
    t.registerExec("./X/*/Run", () => 202);
    assert.equal(t.exec("./X/a/Run", undefined, undefined, SRV), 200);
    unbind();
    assert.equal(t.exec("./X/a/Run", undefined, undefined, SRV), 202);
  });

  test("no handler is 405, no node 404, a property 405", () => {
    const t = openTree();
    t.setLeaf("./plain", "");
    t.registerExec("./ghost", () => 200);
    assert.equal(t.exec("./plain", undefined, undefined, SRV), 405);
    assert.equal(t.exec("./ghost", undefined, undefined, SRV), 404);
    assert.equal(t.exec("./plain?prop=Name", undefined, undefined, SRV), 405);
  });

  test("without Exec rights it is 425 and the handler does not run", () => {
    const t = new DmTree();
    t.setLeaf("./run", "");
    let ran = false;
    t.registerExec("./run", () => {
      ran = true;
      return 200;
    });
    assert.equal(t.exec("./run", undefined, undefined, SRV), StatusCode.PERMISSION_DENIED);
    assert.equal(ran, false);
  });
});

describe("snapshot and restore (Atomic rollback)", () => {
  test("restore undoes adds, replaces, deletes and property changes", () => {
    const t = openTree();
    t.add("./keep", { data: "1" }, SRV);
    t.add("./gone", { data: "g" }, SRV);
    const snap = t.snapshot();
    t.replace("./keep", { data: "2" }, SRV);
    t.replace("./keep?prop=Title", { data: "T" }, SRV);
    t.add("./new/deep", { data: "n" }, SRV);
    t.delete("./gone", SRV);
    t.restore(snap);
    assert.equal(t.read("./keep"), "1");
    assert.equal(t.inspect("./keep")?.title, "");
    assert.equal(t.exists("./new"), false);
    assert.equal(t.read("./gone"), "g");
    assert.equal(t.nodeCount, 3);
  });

  test("a snapshot can be restored more than once", () => {
    const t = openTree();
    const snap = t.snapshot();
    t.add("./a", { data: "1" }, SRV);
    t.restore(snap);
    t.add("./b", { data: "1" }, SRV);
    t.restore(snap);
    assert.deepEqual(t.children("."), []);
  });

  test("a snapshot of another tree, or anything else, is refused", () => {
    const a = openTree();
    const b = openTree();
    assert.throws(() => a.restore(b.snapshot()), TypeError);
    assert.throws(() => a.restore({}), TypeError);
    assert.throws(() => a.restore(undefined), TypeError);
  });
});

describe("device-side API", () => {
  test("setLeaf creates parents, keeps ACL/permanence, and refuses bad values", () => {
    const t = new DmTree();
    t.setLeaf("./Dev/Count", "3", { format: "int", acl: "Get=*" });
    assert.equal(t.inspect("./Dev")?.interior, true);
    assert.equal(t.inspect("./Dev/Count")?.acl, "Get=*");
    t.setLeaf("./Dev/Count", "4");
    assert.equal(t.inspect("./Dev/Count")?.acl, "Get=*");
    assert.throws(() => t.setLeaf("./Dev/Count", "four"), {
      name: "TreeError",
      code: "BAD_VALUE",
      status: 400,
    });
    assert.throws(() => t.setLeaf("./Dev", "x"), { code: "NOT_ALLOWED" });
    assert.throws(() => t.ensureInterior("./Dev/Count"), { code: "NOT_ALLOWED" });
    assert.throws(() => t.inspect("./Dev/"), { code: "BAD_URI" });
    assert.throws(() => t.setAcl("./Dev", "Get"), { code: "BAD_VALUE" });
    assert.throws(() => t.setAcl(".", ""), { code: "NOT_ALLOWED" });
  });

  test("remove deletes even permanent nodes, but never the root", () => {
    const t = new DmTree();
    t.ensureInterior("./P", { permanent: true });
    assert.equal(t.remove("./P"), true);
    assert.equal(t.remove("./P"), false);
    assert.throws(() => t.remove("."), { code: "NOT_ALLOWED" });
  });

  test("the root ACL must grant Add to everyone", () => {
    assert.throws(() => new DmTree({ rootAcl: "Get=*" }), TypeError);
    assert.throws(() => new DmTree({ rootAcl: "" }), TypeError);
  });
});

describe("addSubtree (device side, one change)", () => {
  const spec = {
    leaves: [
      { path: "Name", value: "acme" },
      { path: "Addr/1/Uri", value: "https://dm.example.com", options: { acl: "Get=*" } },
      { path: "Auth/Secret", value: "s3cret", options: { acl: "Replace=srv" } },
      { path: "Auth/Data", value: new Uint8Array([1, 2, 3]), options: { format: "bin" as const } },
      { path: "Count", value: "7", options: { format: "int" as const, type: "text/x-count" } },
    ],
    interiors: ["Ext", "Addr/2"],
  };

  /** Every node below `uri`, as inspect shows it, depth first. */
  function dump(t: DmTree, uri: string): unknown[] {
    const n = t.inspect(uri)!;
    return [n, ...[...n.children].sort().flatMap((c) => dump(t, `${uri}/${c}`))];
  }

  test("makes the nodes setLeaf and ensureInterior make, none of them changed since", () => {
    const clock = manualClock();
    const one = new DmTree({ clock });
    const many = new DmTree({ clock });
    for (const t of [one, many]) t.ensureInterior("./Acc");
    one.addSubtree("./Acc/A", spec, { acl: "Get=srv", type: "urn:x-acc" });
    many.ensureInterior("./Acc/A", { acl: "Get=srv", type: "urn:x-acc" });
    for (const l of spec.leaves) many.setLeaf(`./Acc/A/${l.path}`, l.value, l.options);
    for (const i of spec.interiors) many.ensureInterior(`./Acc/A/${i}`);
    assert.equal(one.nodeCount, many.nodeCount);
    const strip = (n: unknown) => ({ ...(n as object), verNo: undefined });
    assert.deepEqual(dump(one, "./Acc/A").map(strip), dump(many, "./Acc/A").map(strip));
    // Every node is new: none was changed after it was made. Its parent changed once.
    assert.deepEqual(
      dump(one, "./Acc/A").map((n) => (n as { verNo: number }).verNo),
      dump(one, "./Acc/A").map(() => 0),
    );
    assert.equal(one.inspect("./Acc")?.verNo, many.inspect("./Acc")?.verNo);
    assert.equal(one.read("./Acc/A/Auth/Secret"), "s3cret");
    assert.deepEqual(one.read("./Acc/A/Auth/Data"), new Uint8Array([1, 2, 3]));
  });

  test("makes missing ancestors, counted like any node", () => {
    const t = new DmTree();
    const before = t.nodeCount;
    t.addSubtree("./X/Y/Z", { leaves: [{ path: "L", value: "v" }] });
    assert.equal(t.nodeCount, before + 4);
    assert.equal(t.read("./X/Y/Z/L"), "v");
  });

  test("refuses, changing nothing: an existing node, bad leaves, clashing paths, a full tree", () => {
    const t = new DmTree({ limits: { maxNodes: 40 } });
    t.ensureInterior("./Acc/Taken");
    t.setLeaf("./Leaf", "v");
    const before = { count: t.nodeCount, nodes: dump(t, ".") };
    const refused: Array<[string, () => void]> = [
      ["ALREADY_EXISTS", () => t.addSubtree("./Acc/Taken", spec)],
      ["NOT_ALLOWED", () => t.addSubtree("./Leaf/X", spec)],
      ["NOT_ALLOWED", () => t.addSubtree(".", spec)],
      [
        "BAD_VALUE",
        () =>
          t.addSubtree("./Acc/B", {
            leaves: [{ path: "N", value: "x", options: { format: "int" } }],
          }),
      ],
      [
        "BAD_VALUE",
        () =>
          t.addSubtree("./Acc/B", {
            leaves: [{ path: "N", value: "x", options: { acl: "Bogus" } }],
          }),
      ],
      [
        "UNSUPPORTED_FORMAT",
        () =>
          t.addSubtree("./Acc/B", {
            leaves: [{ path: "N", value: "x", options: { format: "node" } }],
          }),
      ],
      ["BAD_URI", () => t.addSubtree("./Acc/B", { leaves: [{ path: "a//b", value: "x" }] })],
      [
        "ALREADY_EXISTS",
        () =>
          t.addSubtree("./Acc/B", {
            leaves: [
              { path: "N", value: "1" },
              { path: "N", value: "2" },
            ],
          }),
      ],
      [
        "NOT_ALLOWED",
        () =>
          t.addSubtree("./Acc/B", {
            leaves: [
              { path: "N", value: "1" },
              { path: "N/M", value: "2" },
            ],
          }),
      ],
      [
        "NOT_ALLOWED",
        () =>
          t.addSubtree("./Acc/B", {
            leaves: [
              { path: "N/M", value: "1" },
              { path: "N", value: "2" },
            ],
          }),
      ],
      [
        "DEVICE_FULL",
        () =>
          t.addSubtree("./Acc/B", {
            leaves: Array.from({ length: 40 }, (_, i) => ({ path: `L${i}`, value: "x" })),
          }),
      ],
    ];
    for (const [code, attempt] of refused) {
      assert.throws(attempt, { code }, code);
      assert.deepEqual({ count: t.nodeCount, nodes: dump(t, ".") }, before);
    }
  });

  test("setLeaf and ensureInterior report a leaf on the path or a full tree before a bad ACL", () => {
    const t = new DmTree({ limits: { maxNodes: 3 } });
    t.setLeaf("./L", "v");
    assert.throws(() => t.setLeaf("./L/X", "v", { acl: "Bogus" }), { code: "NOT_ALLOWED" });
    assert.throws(() => t.ensureInterior("./L/X", { acl: "Bogus" }), { code: "NOT_ALLOWED" });
    t.setLeaf("./M", "v");
    assert.throws(() => t.setLeaf("./N", "v", { acl: "Bogus" }), { code: "DEVICE_FULL" });
    assert.throws(() => t.ensureInterior("./N", { acl: "Bogus" }), { code: "DEVICE_FULL" });
  });
});
