// toCatalogueError (src/server-kit/errors.ts): which errors are the client's doing and which
// are the server's own, whatever code they share.
import assert from "node:assert/strict";
import { test } from "node:test";
import { CarrierError } from "../../src/carrier/errors.js";
import { toCatalogueError } from "../../src/server-kit/index.js";

/** A server's catalogue: the carrier's, which has every common code. */
const Own = CarrierError;

test("a client hanging up mid-body is a refusal; a socket of ours reset is INTERNAL", () => {
  // What Node's request stream emits when the client goes away (no syscall).
  const aborted = Object.assign(new Error("aborted"), { code: "ECONNRESET" });
  assert.equal(toCatalogueError(Own, aborted).code, "MALFORMED_BODY");
  // What pg hands a query when its connection to the database is reset.
  const dbReset = Object.assign(new Error("read ECONNRESET"), {
    code: "ECONNRESET",
    errno: -104,
    syscall: "read",
  });
  assert.equal(toCatalogueError(Own, dbReset).code, "INTERNAL");
  const other = Object.assign(new Error("aborted"), { code: "ECONNRESET", syscall: "write" });
  assert.equal(toCatalogueError(Own, other).code, "INTERNAL");
});

test("fastify's refusals by code, never with their own message", () => {
  const long = Object.assign(new Error("'/carriers/acme/devices/aaaa' is too long"), {
    code: "FST_ERR_MAX_PARAM_LENGTH",
    statusCode: 414,
  });
  const e = toCatalogueError(Own, long);
  assert.deepEqual([e.code, e.message], ["URI_TOO_LONG", "a segment of the URL is too long"]);
  const badUrl = Object.assign(new Error("'/%zz' is not a valid url component"), {
    code: "FST_ERR_BAD_URL",
    statusCode: 400,
  });
  assert.deepEqual(
    [toCatalogueError(Own, badUrl).code, toCatalogueError(Own, badUrl).message],
    ["INVALID_REQUEST", "the URL is not well-formed"],
  );
});
