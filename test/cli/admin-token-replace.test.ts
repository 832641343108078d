// A stack whose credentials.json no longer holds a part's admin token mints a new one at its
// next start. The old one, perhaps leaked (the reason to drop it), used to stay valid for ever
// beside it; now the new token replaces it, and the revocation is audited.
import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { openStore, sqliteUrlFor } from "../../src/store/index.js";
import { startUp, tempDir, type UpProcess } from "./stack-support.js";

describe("a part's admin token dropped from credentials.json is replaced, not joined", () => {
  let tmp: Awaited<ReturnType<typeof tempDir>>;
  let up: UpProcess | undefined;

  before(async () => {
    tmp = await tempDir("admin-replace");
  });
  after(async () => {
    await up?.stop();
    await tmp.remove();
  });

  test("the old token is refused after the restart; the new one works", async () => {
    const credsFile = join(tmp.path, "credentials.json");
    up = await startUp(["--data", tmp.path]);
    const creds = JSON.parse(await readFile(credsFile, "utf8"));
    const old = creds.adminTokens["carrier:acme"] as string;
    const keptEnterprise = creds.adminTokens["enterprise:initech"] as string;
    const probe = (base: string, token: string) =>
      fetch(`${base}/carriers/acme/devices/359991010695028`, {
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.status);
    assert.equal(await probe(up.baseUrl, old), 404, "a valid token: the device is not found");
    await up.stop();

    const oldOperator = creds.adminTokens.platform as string;
    const operatorProbe = (base: string, token: string) =>
      fetch(`${base}/platform/tokens/no-such-token/revoke`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
      }).then((r) => r.status);
    delete creds.adminTokens["carrier:acme"];
    delete creds.adminTokens.platform;
    await writeFile(credsFile, JSON.stringify(creds));
    up = await startUp(["--data", tmp.path]);
    const now = JSON.parse(await readFile(credsFile, "utf8"));
    const fresh = now.adminTokens["carrier:acme"] as string;
    assert.notEqual(fresh, old);
    assert.equal(await probe(up.baseUrl, fresh), 404);
    assert.equal(await probe(up.baseUrl, old), 401, "the dropped token no longer works");
    assert.equal(now.adminTokens["enterprise:initech"], keptEnterprise, "the others untouched");
    // The platform's operator token alike (404: a valid token, no such token to revoke).
    assert.equal(await operatorProbe(up.baseUrl, now.adminTokens.platform), 404);
    assert.equal(await operatorProbe(up.baseUrl, oldOperator), 401);
    await up.stop();
    up = undefined;

    const store = await openStore(sqliteUrlFor(tmp.path));
    try {
      const log = await store.part("carrier:acme").audit.list({ limit: 1_000 });
      const revoked = log.filter((e) => e.action === "token-revoked");
      assert.equal(revoked.length, 1);
      assert.equal((revoked[0]!.details as { why: string }).why, "replaced");
      assert.ok(!JSON.stringify(log).includes(old), "the token's value is in no entry");
      assert.equal((await store.verifyAudit("carrier:acme")).ok, true);
    } finally {
      await store.close();
    }
  });
});
