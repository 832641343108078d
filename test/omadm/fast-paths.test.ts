/**
 * The speed-ups of issue 2 (caches, one-shot hashing, unit-wise scans) must answer exactly what
 * the plain computations they replace would: each is checked here against that computation.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import fc from "fast-check";
import { md5CredentialFromKey, userKey } from "../../src/omadm/auth/md5.js";
import { formatAcl, parseAcl } from "../../src/omadm/tree/acl.js";
import { parseFormat } from "../../src/omadm/tree/format.js";
import { DEFAULT_TREE_LIMITS } from "../../src/omadm/tree/state.js";
import { parseDmUri, parseDmUriCached } from "../../src/omadm/tree/uri.js";
import { findNonXmlChar, NON_XML_CHAR } from "../../src/omadm/xml/chars.js";

const plainUserKey = (user: string, password: string) =>
  createHash("md5").update(`${user}:${password}`, "utf8").digest("base64");

describe("cached user keys", () => {
  test("equal B64(MD5(user:password)) for more accounts than the cache holds, twice over", () => {
    for (let round = 0; round < 2; round++) {
      for (let i = 0; i < 200; i++) {
        assert.equal(
          userKey(`user${i}`, `secret${i % 7}`),
          plainUserKey(`user${i}`, `secret${i % 7}`),
        );
      }
    }
  });

  test("hold for names and passwords that contain the separator", () => {
    assert.equal(userKey("a:b", "c"), plainUserKey("a:b", "c"));
    assert.equal(userKey("a", "b:c"), plainUserKey("a", "b:c"));
    assert.equal(userKey("", ""), plainUserKey("", ""));
  });

  test("one name with many passwords stays correct", () => {
    for (let i = 0; i < 150; i++)
      assert.equal(userKey("same", `p${i}`), plainUserKey("same", `p${i}`));
  });
});

test("the md5 credential equals MD5(key:nonce) hashed in parts", () => {
  fc.assert(
    fc.property(fc.string(), fc.uint8Array({ maxLength: 32 }), (key, nonce) => {
      const parts = createHash("md5").update(key).update(":").update(nonce).digest("base64");
      assert.equal(md5CredentialFromKey(key, nonce), parts);
    }),
  );
});

describe("cached URI parsing", () => {
  const uris = [
    ".",
    "./DevInfo/Mod",
    "DevInfo/Mod",
    "./A/B?prop=ACL",
    "./A?list=Struct",
    "./A/",
    "/A",
    "./A/../B",
    "./A?prop=Nope",
    "",
    `./${"x".repeat(200)}`,
    `./${"😀".repeat(130)}`,
  ];

  test("answers what parseDmUri answers, frozen", () => {
    for (let round = 0; round < 2; round++) {
      for (const uri of uris) {
        const cached = parseDmUriCached(uri, DEFAULT_TREE_LIMITS);
        assert.deepEqual(cached, parseDmUri(uri, DEFAULT_TREE_LIMITS));
        assert.ok(Object.isFrozen(cached));
        if (cached.ok) assert.ok(Object.isFrozen(cached.uri.segments));
      }
    }
  });

  test("keeps results apart per set of limits", () => {
    const tight = { maxDepth: 1, maxTotLen: 0, maxSegLen: 0 };
    assert.equal(parseDmUriCached("./A/B", DEFAULT_TREE_LIMITS).ok, true);
    assert.deepEqual(parseDmUriCached("./A/B", tight), parseDmUri("./A/B", tight));
    assert.equal(parseDmUriCached("./A/B", tight).ok, false);
  });

  test("stays right past its bound", () => {
    for (let i = 0; i < 1000; i++) {
      const uri = `./N${i}`;
      assert.deepEqual(
        parseDmUriCached(uri, DEFAULT_TREE_LIMITS),
        parseDmUri(uri, DEFAULT_TREE_LIMITS),
      );
    }
  });
});

test("findNonXmlChar finds what NON_XML_CHAR finds", () => {
  const unit = fc.constantFrom(
    "a",
    "<",
    "\t",
    "\u0000",
    "\u000b",
    "\u001f",
    "\ud800",
    "\udc00",
    "\ufffe",
    "\uffff",
    "\ue000",
    "😀",
  );
  fc.assert(
    fc.property(fc.array(unit, { maxLength: 12 }), (parts) => {
      const s = parts.join("");
      const m = NON_XML_CHAR.exec(s);
      assert.equal(findNonXmlChar(s), m === null ? -1 : m.index);
    }),
    { numRuns: 2000 },
  );
});

describe("formatAcl", () => {
  test("formats a frozen ACL the same each time", () => {
    const parsed = parseAcl("Get=*&Replace=a+b");
    assert.ok(parsed.ok);
    assert.equal(formatAcl(parsed.acl), "Get=*&Replace=a+b");
    assert.equal(formatAcl(parsed.acl), "Get=*&Replace=a+b");
  });

  test("does not remember an ACL that may still change", () => {
    const acl = [{ command: "Get" as const, servers: ["a"] }];
    assert.equal(formatAcl(acl), "Get=a");
    acl[0]!.servers.push("b");
    assert.equal(formatAcl(acl), "Get=a+b");
  });
});

test("parseFormat takes exact names at once and others as before", () => {
  assert.equal(parseFormat("chr"), "chr");
  assert.equal(parseFormat(" Chr "), "chr");
  assert.equal(parseFormat("B64"), "b64");
  assert.equal(parseFormat("nope"), undefined);
});
