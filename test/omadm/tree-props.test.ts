import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusCode } from "../../src/omadm/status.js";
import { DmTree, type TreeOptions } from "../../src/omadm/tree/index.js";

const SRV = "srv1.example.com";
const OTHER = "srv2.example.com";

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

const prop = (t: DmTree, uri: string) => {
  const r = t.get(uri, SRV);
  assert.equal(r.status, 200, `Get ${uri}`);
  return r.items[0]?.data;
};

describe("?prop= Get", () => {
  test("every property of a leaf, as strings without Meta", () => {
    const clock = manualClock("2001-07-11T16:38:17Z");
    const t = openTree({ clock });
    t.add("./a", { format: "chr", type: "text/plain", data: "héllo" }, SRV);
    const r = t.get("./a?prop=Format", SRV);
    assert.deepEqual(r.items, [{ source: { locUri: "./a?prop=Format" }, data: "chr" }]);
    assert.equal(prop(t, "./a?prop=ACL"), "");
    assert.equal(prop(t, "./a?prop=Name"), "a");
    assert.equal(prop(t, "./a?prop=Size"), "6");
    assert.equal(prop(t, "./a?prop=Title"), "");
    assert.equal(prop(t, "./a?prop=TStamp"), "20010711T163817Z");
    assert.equal(prop(t, "./a?prop=Type"), "text/plain");
    assert.equal(prop(t, "./a?prop=VerNo"), "0");
  });

  test("Size counts bytes of a bin value; an interior node has no Size (406)", () => {
    const t = openTree();
    t.add("./b", { format: "bin", data: new Uint8Array(5) }, SRV);
    t.add("./n", { format: "node" }, SRV);
    assert.equal(prop(t, "./b?prop=Size"), "5");
    assert.equal(t.get("./n?prop=Size", SRV).status, StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED);
    assert.equal(prop(t, "./n?prop=Format"), "node");
  });

  test("an unknown property is 406, on a missing node the property is 404", () => {
    const t = openTree();
    t.add("./a", { data: "x" }, SRV);
    assert.equal(t.get("./a?prop=Colour", SRV).status, 406);
    assert.equal(t.get("./zz?prop=Name", SRV).status, 404);
  });

  test("the root's Name is '.' and its ACL the default", () => {
    const t = new DmTree();
    assert.equal(prop(t, ".?prop=Name"), ".");
    assert.equal(prop(t, ".?prop=ACL"), "Add=*&Get=*");
  });
});

describe("?prop= Replace", () => {
  test("Title is replaceable", () => {
    const t = openTree();
    t.add("./a", { data: "x" }, SRV);
    assert.equal(t.replace("./a?prop=Title", { data: "Ring tone" }, SRV), 200);
    assert.equal(prop(t, "./a?prop=Title"), "Ring tone");
  });

  test("Name renames the node, keeping its subtree", () => {
    const t = openTree();
    t.add("./A/B/c", { data: "1" }, SRV);
    assert.equal(t.replace("./A/B?prop=Name", { data: "Renamed" }, SRV), 200);
    assert.equal(t.exists("./A/B"), false);
    assert.equal(t.read("./A/Renamed/c"), "1");
    assert.equal(prop(t, "./A/Renamed?prop=Name"), "Renamed");
  });

  test("Name: a taken name is 418, a bad one 400 or 414, a permanent node or the root 405", () => {
    const t = openTree({ limits: { maxSegLen: 10 } });
    t.add("./a", { data: "1" }, SRV);
    t.add("./b", { data: "2" }, SRV);
    t.ensureInterior("./perm", { permanent: true });
    assert.equal(t.replace("./a?prop=Name", { data: "b" }, SRV), 418);
    assert.equal(t.replace("./a?prop=Name", { data: "x/y" }, SRV), 400);
    assert.equal(t.replace("./a?prop=Name", { data: ".." }, SRV), 400);
    assert.equal(t.replace("./a?prop=Name", { data: "elevenchars" }, SRV), 414);
    assert.equal(t.replace("./perm?prop=Name", { data: "p2" }, SRV), 405);
    assert.equal(t.replace(".?prop=Name", { data: "root" }, SRV), 405);
    assert.equal(t.replace("./a?prop=Name", { data: "a" }, SRV), 200);
  });

  test("Format, Size, TStamp, Type and VerNo are not replaceable (405)", () => {
    const t = openTree();
    t.add("./a", { data: "x" }, SRV);
    for (const p of ["Format", "Size", "TStamp", "Type", "VerNo"]) {
      assert.equal(
        t.replace(`./a?prop=${p}`, { data: "1" }, SRV),
        StatusCode.COMMAND_NOT_ALLOWED,
        p,
      );
    }
  });

  test("a property value over maxPropertyLength is 413", () => {
    const t = openTree({ limits: { maxPropertyLength: 4 } });
    t.add("./a", { data: "x" }, SRV);
    assert.equal(t.replace("./a?prop=Title", { data: "12345" }, SRV), 413);
  });
});

describe("?list=", () => {
  function sample(): DmTree {
    const t = openTree();
    t.add("./R/a", { format: "int", data: "1" }, SRV);
    t.add("./R/S/b", { format: "chr", data: "two" }, SRV);
    t.add(
      "./R/S/c",
      { format: "bin", type: "application/octet-stream", data: new Uint8Array([3]) },
      SRV,
    );
    return t;
  }

  test("Struct: every node's URI and Meta, pre-order, without data", () => {
    const r = sample().get("./R?list=Struct", SRV);
    assert.equal(r.status, 200);
    assert.deepEqual(r.items, [
      { source: { locUri: "./R" }, meta: { format: "node" } },
      { source: { locUri: "./R/a" }, meta: { format: "int", type: "text/plain" } },
      { source: { locUri: "./R/S" }, meta: { format: "node" } },
      { source: { locUri: "./R/S/b" }, meta: { format: "chr", type: "text/plain" } },
      { source: { locUri: "./R/S/c" }, meta: { format: "bin", type: "application/octet-stream" } },
    ]);
  });

  test("StructData: the same with the leaves' data", () => {
    const r = sample().get("R?list=StructData", SRV);
    assert.deepEqual(
      r.items.map((i) => [i.source?.locUri, i.data]),
      [
        ["R", undefined],
        ["R/a", "1"],
        ["R/S", undefined],
        ["R/S/b", "two"],
        ["R/S/c", new Uint8Array([3])],
      ],
    );
  });

  test("the root's listing starts with '.'", () => {
    const r = sample().get(".?list=Struct", SRV);
    assert.deepEqual(
      r.items.slice(0, 2).map((i) => i.source?.locUri),
      [".", "./R"],
    );
  });

  test("subtrees the server may not Get are left out", () => {
    const t = sample();
    t.setAcl("./R/S", `Get=${OTHER}`);
    const mine = t.get("./R?list=StructData", SRV).items.map((i) => i.source?.locUri);
    assert.deepEqual(mine, ["./R", "./R/a"]);
    const theirs = t.get("./R/S?list=Struct", OTHER).items.map((i) => i.source?.locUri);
    assert.deepEqual(theirs, ["./R/S", "./R/S/b", "./R/S/c"]);
  });

  test("TNDS and unknown attributes are 406", () => {
    const t = sample();
    assert.equal(t.get("./R?list=TNDS", SRV).status, 406);
    assert.equal(t.get("./R?list=Everything", SRV).status, 406);
  });
});

describe("TStamp and VerNo on a frozen clock", () => {
  test("set at creation, moved on each change of the node", () => {
    const clock = manualClock("2024-01-01T00:00:00Z");
    const t = openTree({ clock });
    t.add("./a", { data: "1" }, SRV);
    assert.equal(t.inspect("./a")?.tstamp, "20240101T000000Z");
    assert.equal(t.inspect("./a")?.verNo, 0);

    clock.set("2024-01-02T03:04:05Z");
    t.replace("./a", { data: "2" }, SRV);
    assert.equal(prop(t, "./a?prop=TStamp"), "20240102T030405Z");
    assert.equal(prop(t, "./a?prop=VerNo"), "1");

    clock.set("2024-01-03T00:00:00Z");
    t.replace("./a?prop=ACL", { data: "Get=*&Replace=*" }, SRV);
    t.replace("./a?prop=Title", { data: "t" }, SRV);
    assert.equal(t.inspect("./a")?.verNo, 3);
    assert.equal(t.inspect("./a")?.tstamp, "20240103T000000Z");
  });

  test("a refused command changes nothing", () => {
    const clock = manualClock();
    const t = openTree({ clock });
    t.add("./a", { format: "int", data: "1" }, SRV);
    const before = t.inspect("./a");
    clock.set("2030-01-01T00:00:00Z");
    assert.equal(t.replace("./a", { data: "nope" }, SRV), 400);
    assert.deepEqual(t.inspect("./a"), before);
  });

  test("an interior node changes when its list of children does", () => {
    const clock = manualClock("2024-01-01T00:00:00Z");
    const t = openTree({ clock });
    t.add("./dir", { format: "node" }, SRV);
    clock.set("2024-02-01T00:00:00Z");
    t.add("./dir/x", { data: "1" }, SRV);
    assert.deepEqual(
      [t.inspect("./dir")?.verNo, t.inspect("./dir")?.tstamp],
      [1, "20240201T000000Z"],
    );
    t.replace("./dir/x", { data: "2" }, SRV);
    assert.equal(t.inspect("./dir")?.verNo, 1);
    t.delete("./dir/x", SRV);
    assert.equal(t.inspect("./dir")?.verNo, 2);
  });

  test("VerNo wraps after 65535", () => {
    const t = openTree();
    t.add("./a", { data: "0" }, SRV);
    for (let i = 0; i < 65536; i++) t.replace("./a", { data: String(i % 2) }, SRV);
    assert.equal(t.inspect("./a")?.verNo, 0);
  });
});
