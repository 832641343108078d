// The one bearer-token reader of the three servers' guards (admin routes, platform tokens,
// migration peers): what it takes from `Authorization`, through a real fastify request.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import Fastify, { type FastifyInstance } from "fastify";
import { bearerToken } from "../../src/server-kit/index.js";

describe("bearerToken", () => {
  let app: FastifyInstance;
  before(async () => {
    app = Fastify();
    app.get("/", async (req) => ({ token: bearerToken(req) }));
    await app.ready();
  });
  after(() => app.close());

  const read = async (authorization?: string) => {
    const res = await app.inject({
      method: "GET",
      url: "/",
      headers: authorization === undefined ? {} : { authorization },
    });
    return (res.json() as { token: string | null }).token;
  };

  test("a token of our shape is read", async () => {
    const token = `dmg_${"A".repeat(43)}`;
    assert.equal(await read(`Bearer ${token}`), token);
    assert.equal(await read(`Bearer ${"x".repeat(16)}`), "x".repeat(16));
    assert.equal(await read(`Bearer ${"a/b+c=~._-".repeat(51)}xy`), `${"a/b+c=~._-".repeat(51)}xy`);
    // The scheme's name is case-insensitive (RFC 9110 §11.1); the token is not.
    assert.equal(await read(`bearer ${token}`), token);
    assert.equal(await read(`BEARER ${token}`), token);
  });

  test("anything else is none", async () => {
    for (const h of [
      undefined,
      "",
      "Bearer",
      "Bearer ",
      `Basic ${"x".repeat(20)}`,
      `Bearer ${"x".repeat(15)}`,
      `Bearer ${"x".repeat(513)}`,
      `Bearer ${"x".repeat(20)} `,
      `Bearer  ${"x".repeat(20)}`,
      `Bearer ${"x".repeat(10)} ${"x".repeat(10)}`,
      `Bearer ${"x".repeat(19)}!`,
    ]) {
      assert.equal(await read(h), null, JSON.stringify(h));
    }
  });
});
