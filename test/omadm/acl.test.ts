import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { StatusCode } from "../../src/omadm/status.js";
import { aclPermits, DmTree, formatAcl, parseAcl } from "../../src/omadm/tree/index.js";

const SRV = "srv1.example.com";
const OTHER = "srv2.example.com";

describe("ACL grammar (TND §8.3.7.1.5)", () => {
  const valid = [
    "",
    "Get=*",
    "Add=*&Get=*",
    "Add=www.sonera.fi-8765&Delete=www.sonera.fi-8765&Replace=www.sonera.fi-8765+321_ibm.com&Get=*",
    "Exec=srv1&Delete=srv1",
    "Get=*+srv1",
    "Get=сервер.example",
  ];
  for (const text of valid) {
    test(`accepts ${JSON.stringify(text)} and writes it back unchanged`, () => {
      const r = parseAcl(text);
      assert.ok(r.ok, text);
      assert.equal(formatAcl(r.acl), text);
    });
  }

  const invalid = [
    "Get",
    "Get=",
    "=srv",
    "Copy=*",
    "get=*",
    "Get=a b",
    "Get= a",
    "Get=a&",
    "&Get=a",
    "Get=a&&Add=b",
    "Get=a+",
    "Get=+a",
    "Get=a*b",
    "Get=**",
    "Get=a=b",
    "Get=a&Get=b",
    "Get=a\tb",
    "Get=a\u0007",
  ];
  for (const text of invalid) {
    test(`refuses ${JSON.stringify(text)}`, () => {
      assert.equal(parseAcl(text).ok, false);
    });
  }

  test("parsed entries keep command and servers", () => {
    const r = parseAcl("Replace=a+b&Get=*");
    assert.ok(r.ok);
    assert.deepEqual(r.acl, [
      { command: "Replace", servers: ["a", "b"] },
      { command: "Get", servers: ["*"] },
    ]);
  });
});

describe("aclPermits", () => {
  const parsed = parseAcl("Get=*&Replace=srv1+srv3");
  assert.ok(parsed.ok);
  const value = parsed.acl;

  test("the wildcard grants any server", () => {
    assert.equal(aclPermits(value, "Get", "anyone"), true);
  });
  test("a named server is granted, others are not", () => {
    assert.equal(aclPermits(value, "Replace", "srv3"), true);
    assert.equal(aclPermits(value, "Replace", "srv2"), false);
  });
  test("a command absent from the ACL is granted to nobody", () => {
    assert.equal(aclPermits(value, "Delete", "srv1"), false);
  });
  test("an unauthenticated (empty) principal gets nothing, not even from *", () => {
    assert.equal(aclPermits(value, "Get", ""), false);
  });
});

describe("ACL checks on commands", () => {
  /** Root: Add=*&Get=* (the default). ./Owned belongs to SRV. */
  function tree(): DmTree {
    const t = new DmTree();
    t.ensureInterior("./Owned", {
      acl: `Add=${SRV}&Delete=${SRV}&Get=${SRV}&Replace=${SRV}&Exec=${SRV}`,
    });
    t.setLeaf("./Owned/leaf", "v");
    return t;
  }

  test("the default root ACL is Add=*&Get=*", () => {
    const t = new DmTree();
    assert.equal(t.inspect(".")?.acl, "Add=*&Get=*");
    assert.equal(t.add("./Mine", { format: "node" }, OTHER), 200);
    assert.equal(t.get(".", OTHER).status, 200);
  });

  test("Get needs Get on the node (425)", () => {
    const t = tree();
    assert.equal(t.get("./Owned/leaf", SRV).status, 200);
    assert.deepEqual(t.get("./Owned/leaf", OTHER), {
      status: StatusCode.PERMISSION_DENIED,
      items: [],
    });
    assert.equal(t.get("./Owned/leaf?prop=Format", OTHER).status, 425);
    assert.equal(t.get("./Owned?list=Struct", OTHER).status, 425);
  });

  test("Add needs Add on the parent (425)", () => {
    const t = tree();
    assert.equal(t.add("./Owned/x", { data: "1" }, OTHER), 425);
    assert.equal(t.add("./Owned/x", { data: "1" }, SRV), 200);
    assert.equal(t.add("./Owned/deep/er", { data: "1" }, OTHER), 425, "implicit Add too");
  });

  test("Replace needs Replace on the node (425)", () => {
    const t = tree();
    assert.equal(t.replace("./Owned/leaf", { data: "w" }, OTHER), 425);
    assert.equal(t.read("./Owned/leaf"), "v");
    assert.equal(t.replace("./Owned/leaf", { data: "w" }, SRV), 200);
  });

  test("Delete needs Delete on the node (425)", () => {
    const t = tree();
    assert.equal(t.delete("./Owned/leaf", OTHER), 425);
    assert.equal(t.delete("./Owned/leaf", SRV), 200);
  });

  test("Copy needs Get on the source and Add on the target's parent", () => {
    const t = tree();
    t.ensureInterior("./Open", { acl: "Add=*&Get=*&Replace=*" });
    assert.equal(t.copy("./Open/c", "./Owned/leaf", OTHER), 425);
    assert.equal(t.copy("./Owned/c", "./Open", OTHER), 425);
    assert.equal(t.copy("./Open/c", "./Owned/leaf", SRV), 200);
  });

  test("an empty principal is refused everything", () => {
    const t = new DmTree();
    assert.equal(t.add("./x", { data: "1" }, ""), 425);
    assert.equal(t.get(".", "").status, 425);
  });
});

describe("ACL inheritance (TND §8.3.7.1.1)", () => {
  test("a node without an ACL uses the nearest ancestor's, whole, never merged", () => {
    const t = new DmTree();
    t.ensureInterior("./A", { acl: `Get=${SRV}&Replace=${SRV}` });
    t.ensureInterior("./A/B");
    t.setLeaf("./A/B/c", "v");
    assert.equal(t.get("./A/B/c", SRV).status, 200);
    assert.equal(t.get("./A/B/c", OTHER).status, 425, "root's Get=* is not merged in");
    t.setAcl("./A/B", `Get=${OTHER}`);
    assert.equal(t.get("./A/B/c", OTHER).status, 200);
    assert.equal(t.get("./A/B/c", SRV).status, 425, "the nearer ACL replaces, not extends");
    assert.equal(t.replace("./A/B/c", { data: "w" }, SRV), 425);
  });

  test("Get of ?prop=ACL on a node without a value is empty, not the inherited value", () => {
    const t = new DmTree();
    t.setLeaf("./x", "v");
    assert.deepEqual(t.get("./x?prop=ACL", SRV).items, [
      { source: { locUri: "./x?prop=ACL" }, data: "" },
    ]);
  });
});

describe("new nodes' ACLs (TND §8.3.7.1.3)", () => {
  test("an interior node added without Replace on the parent gets Add, Delete, Replace for its creator", () => {
    const t = new DmTree();
    assert.equal(t.add("./Mine", { format: "node" }, SRV), 200);
    assert.equal(t.inspect("./Mine")?.acl, `Add=${SRV}&Delete=${SRV}&Replace=${SRV}`);
    assert.equal(t.add("./Mine/x", { data: "1" }, OTHER), 425);
    assert.equal(t.delete("./Mine", SRV), 200);
  });

  test("implicit Add applies the rule to the first new node; deeper ones inherit", () => {
    const t = new DmTree();
    assert.equal(t.add("./P/Q/leaf", { data: "1" }, SRV), 200);
    assert.equal(t.inspect("./P")?.acl, `Add=${SRV}&Delete=${SRV}&Replace=${SRV}`);
    assert.equal(t.inspect("./P/Q")?.acl, "");
    assert.equal(t.inspect("./P/Q/leaf")?.acl, "");
  });

  test("with Replace on the parent, or for a leaf, the new ACL is empty", () => {
    const t = new DmTree({ rootAcl: "Add=*&Get=*&Replace=*" });
    t.add("./N", { format: "node" }, SRV);
    t.add("./L", { data: "x" }, SRV);
    assert.equal(t.inspect("./N")?.acl, "");
    assert.equal(t.inspect("./L")?.acl, "");
  });

  test("a ServerID the grammar cannot name gets no creator ACL", () => {
    const t = new DmTree();
    assert.equal(t.add("./N", { format: "node" }, "bad id"), 200);
    assert.equal(t.inspect("./N")?.acl, "");
  });
});

describe("Replace of ?prop=ACL", () => {
  test("a leaf's ACL needs Replace on the parent: the leaf's own Replace is not enough", () => {
    const t = new DmTree();
    t.ensureInterior("./P", { acl: `Replace=${OTHER}&Get=*` });
    t.setLeaf("./P/leaf", "v", { acl: `Replace=${SRV}&Get=*` });
    assert.equal(t.replace("./P/leaf?prop=ACL", { data: "Get=*" }, SRV), 425);
    assert.equal(
      t.replace("./P/leaf", { data: "w" }, SRV),
      200,
      "the value is still SRV's to change",
    );
    assert.equal(t.replace("./P/leaf?prop=ACL", { data: `Get=*&Replace=${OTHER}` }, OTHER), 200);
    assert.equal(t.inspect("./P/leaf")?.acl, `Get=*&Replace=${OTHER}`);
  });

  test("an interior node's ACL: Replace on the node or on the parent", () => {
    const t = new DmTree();
    t.ensureInterior("./P", { acl: `Replace=${OTHER}` });
    t.ensureInterior("./P/N", { acl: `Replace=${SRV}` });
    assert.equal(t.replace("./P/N?prop=ACL", { data: `Replace=${SRV}&Get=${SRV}` }, SRV), 200);
    assert.equal(
      t.replace("./P/N?prop=ACL", { data: `Get=${OTHER}` }, OTHER),
      200,
      "parent's owner takes over",
    );
    assert.equal(t.replace("./P/N?prop=ACL", { data: "Get=*" }, "srv3"), 425);
  });

  test("a malformed value is 400 and leaves the ACL as it was", () => {
    const t = new DmTree({ rootAcl: "Add=*&Get=*&Replace=*" });
    t.setLeaf("./x", "v", { acl: "Get=*" });
    assert.equal(t.replace("./x?prop=ACL", { data: "Get=a b" }, SRV), StatusCode.BAD_REQUEST);
    assert.equal(t.replace("./x?prop=ACL", { data: "Fetch=*" }, SRV), 400);
    assert.equal(t.inspect("./x")?.acl, "Get=*");
    assert.equal(t.replace("./x?prop=ACL", { data: "" }, SRV), 200, "an empty ACL inherits again");
    assert.equal(t.inspect("./x")?.acl, "");
  });

  test("the root keeps a value with Add=* (405), and needs Replace on itself", () => {
    const closed = new DmTree();
    assert.equal(closed.replace(".?prop=ACL", { data: "Add=*&Get=*&Replace=*" }, SRV), 425);
    const t = new DmTree({ rootAcl: "Add=*&Get=*&Replace=*" });
    assert.equal(t.replace(".?prop=ACL", { data: `Add=${SRV}&Get=*` }, SRV), 405);
    assert.equal(t.replace(".?prop=ACL", { data: "" }, SRV), 405);
    assert.equal(t.replace(".?prop=ACL", { data: `Add=*&Get=*&Replace=${SRV}` }, SRV), 200);
    assert.equal(t.inspect(".")?.acl, `Add=*&Get=*&Replace=${SRV}`);
  });

  test("Title and Name changes need Replace on the node", () => {
    const t = new DmTree();
    t.setLeaf("./x", "v", { acl: `Get=*&Replace=${SRV}` });
    assert.equal(t.replace("./x?prop=Title", { data: "t" }, OTHER), 425);
    assert.equal(t.replace("./x?prop=Name", { data: "y" }, OTHER), 425);
    assert.equal(t.replace("./x?prop=Title", { data: "t" }, SRV), 200);
  });
});
