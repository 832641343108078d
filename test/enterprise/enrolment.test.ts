// The enrolment list: JSON and CSV imports (all rows or none), single enroll/unenroll, admin auth.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { luhnCheckDigit } from "../../src/identity/index.js";
import { ENTERPRISE, makeStack, type Stack } from "../platform/helpers.js";

const imei = (base: string) => `${base}${luhnCheckDigit(base)}`;
const IMEIS = [imei("49015420323751"), imei("35693803564380"), imei("35391805847826")];
const path = `/enterprises/${ENTERPRISE}/enrolment`;

describe("enterprise enrolment", () => {
  let s: Stack;
  before(async () => {
    s = await makeStack();
  });
  after(() => s.close());
  const part = () => s.store.part(`enterprise:${ENTERPRISE}`);

  test("JSON import, then CSV import with quoted fields", async () => {
    let res = await s.call(path, {
      token: s.enterpriseAdmin,
      json: [{ imei: IMEIS[0], user: "ann", userGroup: "executive" }],
    });
    assert.equal(res.status, 200);
    res = await s.call(path, {
      token: s.enterpriseAdmin,
      type: "text/csv",
      body: `imei,user,userGroup\r\n${IMEIS[1]},"Bob ""B"" Smith",technology\r\n${IMEIS[2]},,worker\r\n`,
    });
    assert.equal(res.status, 200, await res.clone().text());
    assert.deepEqual(await res.json(), { imported: 2 });
    assert.equal((await part().enrolment.get(IMEIS[1]!))?.user, 'Bob "B" Smith');
    assert.equal(await part().enrolment.count(), 3);
  });

  test("a bad row: ENROLMENT_INVALID naming its line, nothing imported", async () => {
    const before = await part().enrolment.count();
    const res = await s.call(path, {
      token: s.enterpriseAdmin,
      type: "text/csv",
      body: `imei,userGroup\n${imei("35175605152399")},worker\n490154203237510${"x"},worker\n`,
    });
    assert.equal(res.status, 400);
    const e = (
      (await res.json()) as { error: { code: string; details: { rows: Array<{ line: number }> } } }
    ).error;
    assert.equal(e.code, "ENROLMENT_INVALID");
    assert.equal(e.details.rows[0]!.line, 3);
    assert.equal(await part().enrolment.count(), before);
  });

  test("enroll and unenroll one device; audited", async () => {
    const one = imei("35209900176148");
    let res = await s.call(`${path}/${one}`, {
      method: "PUT",
      token: s.enterpriseAdmin,
      json: { userGroup: "worker" },
    });
    assert.equal(res.status, 200);
    res = await s.call(`${path}/${one}`, { method: "DELETE", token: s.enterpriseAdmin });
    assert.equal(res.status, 200);
    res = await s.call(`${path}/${one}`, { method: "DELETE", token: s.enterpriseAdmin });
    assert.equal(res.status, 404);
    const actions = (await part().audit.list()).map((e) => e.action);
    assert.ok(
      actions.includes("enrolled") &&
        actions.includes("unenrolled") &&
        actions.includes("enrolment-import"),
    );
  });

  test("admin routes need the enterprise's admin token", async () => {
    for (const token of [undefined, s.carrierAdmin.acme, s.operatorToken]) {
      const res = await s.call(path, { json: [], ...(token ? { token } : {}) });
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, "UNAUTHORIZED");
    }
  });
});
