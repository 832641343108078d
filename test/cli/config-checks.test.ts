// The checks the `serve` configs share (src/cli/serve/config-file.ts): a server to call
// (`{ url, token | tokenFile }`: the carrier's `platform` and `migration.direct.<A>`, the
// enterprise's platform upstream) and a carrier's migration policy (the carrier's
// `migration.policy`, the platform's `migrationPolicies.<A>`). Wherever the shape appears, the
// same bad value is refused with the same one line naming the file and the field, exit 2, and
// never the secret.
import assert from "node:assert/strict";
import { mkdir, readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CliError } from "../../src/cli/exit.js";
import { readCarrierConfig } from "../../src/cli/serve/carrier-config.js";
import { readEnterpriseConfig } from "../../src/cli/serve/enterprise-config.js";
import { readPlatformConfig } from "../../src/cli/serve/platform-config.js";
import { createOemCa } from "../../src/device/index.js";
import { runCli } from "../support/cli.js";
import { oneLine, tempDir } from "./stack-support.js";

const SECRET = "secret-token-never-in-errors-0123";

/** Where a shape sits: the config that holds `value` there, its reader, its command. */
interface Place {
  where: string;
  part: "carrier" | "platform" | "enterprise";
  config: (value: unknown) => Record<string, unknown>;
  read: (file: string) => Promise<unknown>;
  /** The value as the reader returns it, for a good one. */
  got: (cfg: never) => unknown;
}

const carrier = (extra: Record<string, unknown>) => ({
  carrier: "globex",
  dataDir: "carrier-data",
  oemCaCertificate: "oem-ca.pem",
  ...extra,
});

const ENDPOINTS: Place[] = [
  {
    where: "platform",
    part: "carrier",
    config: (v) => carrier({ platform: v }),
    read: readCarrierConfig,
    got: (c: Awaited<ReturnType<typeof readCarrierConfig>>) => c.platform,
  },
  {
    where: "migration.direct.acme",
    part: "carrier",
    config: (v) => carrier({ migration: { direct: { acme: v } } }),
    read: readCarrierConfig,
    got: (c: Awaited<ReturnType<typeof readCarrierConfig>>) => c.migration?.direct?.acme,
  },
  {
    where: "upstreams.acme",
    part: "enterprise",
    config: (v) => ({
      enterprise: "initech",
      dataDir: "enterprise-data",
      upstreams: { acme: v === null || typeof v !== "object" ? v : { kind: "platform", ...v } },
    }),
    read: readEnterpriseConfig,
    got: (c: Awaited<ReturnType<typeof readEnterpriseConfig>>) => {
      const u = c.upstreams.acme!;
      return u.kind === "platform" ? { url: u.baseUrl, token: u.token } : u;
    },
  },
];

const POLICIES: Place[] = [
  {
    where: "migration.policy",
    part: "carrier",
    config: (v) => carrier({ migration: { policy: v } }),
    read: readCarrierConfig,
    got: (c: Awaited<ReturnType<typeof readCarrierConfig>>) => c.migration?.policy,
  },
  {
    where: "migrationPolicies.acme",
    part: "platform",
    config: (v) => ({
      dataDir: "platform-data",
      oemCaCertificate: "oem-ca.pem",
      carriers: ["acme"],
      migrationPolicies: { acme: v },
    }),
    read: readPlatformConfig,
    got: (c: Awaited<ReturnType<typeof readPlatformConfig>>) => c.migrationPolicies.acme,
  },
];

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

describe("serve configs: the shared checks", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let n = 0;
  const write = async (body: unknown) => {
    n += 1;
    const file = join(dir.path, `c${n}.json`);
    await writeFile(file, JSON.stringify(body));
    return file;
  };
  /** Each case refused by `place`'s reader: exit 2, one line naming the file and `why`. */
  const refused = async (place: Place, cases: Array<[unknown, (where: string) => RegExp]>) => {
    for (const [value, why] of cases) {
      const file = await write(place.config(value));
      const expected = why(esc(place.where));
      await assert.rejects(place.read(file), (err: CliError) => {
        const at = `${place.where} ← ${JSON.stringify(value)}: ${err.message}`;
        assert.equal(err.exitCode, 2, at);
        assert.ok(err.message.startsWith(`${file}: `), at);
        assert.ok(!err.message.includes("\n"), at);
        assert.match(err.message, expected, at);
        assert.ok(!err.message.includes(SECRET), `no secret in the error: ${at}`);
        return true;
      });
    }
  };

  before(async () => {
    dir = await tempDir("config-checks");
    const ca = await createOemCa({ name: "Checks OEM" });
    await writeFile(join(dir.path, "oem-ca.pem"), ca.certificatePem);
    await writeFile(join(dir.path, "good.token"), `  ${SECRET}\n`);
    await writeFile(join(dir.path, "empty.token"), " \n");
    await mkdir(join(dir.path, "a-folder"));
  });
  after(() => dir.remove());

  for (const place of ENDPOINTS) {
    test(`${place.where} (serve ${place.part}): the token inline or from its file`, async () => {
      const url = "https://server.example/base";
      for (const value of [
        { url, token: SECRET },
        { url, tokenFile: "good.token" },
      ]) {
        const cfg = (await place.read(await write(place.config(value)))) as never;
        assert.deepEqual(place.got(cfg), { url, token: SECRET });
      }
    });

    test(`${place.where} (serve ${place.part}): every bad one refused alike`, async () => {
      const url = "http://127.0.0.1:9";
      await refused(place, [
        ["http://x", (w) => new RegExp(`: ${w} must be an object`)],
        [
          { url, token: SECRET, x: 1 },
          (w) => new RegExp(`: ${w}: unknown field "x"; fields are .*url, token, tokenFile$`),
        ],
        [{ url: "ftp://x", token: SECRET }, (w) => new RegExp(`: ${w}\\.url must be the .*http`)],
        [{ token: SECRET }, (w) => new RegExp(`: ${w}\\.url must be`)],
        [{ url }, (w) => new RegExp(`: ${w} needs .*token: "token" or "tokenFile"$`)],
        [{ url, token: "" }, (w) => new RegExp(`: ${w} needs .*token`)],
        [
          { url, token: SECRET, tokenFile: "good.token" },
          (w) => new RegExp(`: ${w}: both "token" and "tokenFile" given`),
        ],
        [
          { url, tokenFile: "missing.token" },
          (w) => new RegExp(`: ${w}\\.tokenFile: ENOENT \\(.*missing\\.token\\)$`),
        ],
        [
          { url, tokenFile: "a-folder" },
          (w) => new RegExp(`: ${w}\\.tokenFile: EISDIR \\(.*a-folder\\)$`),
        ],
        [
          { url, tokenFile: "empty.token" },
          (w) => new RegExp(`: ${w}\\.tokenFile .*empty\\.token holds no token$`),
        ],
        [{ url, tokenFile: 7 }, (w) => new RegExp(`: ${w}\\.tokenFile must be a non-empty string`)],
      ]);
    });
  }

  test("upstreams.acme (serve enterprise): a carrier upstream takes no token", async () => {
    const cfg = (u: unknown) => ({
      enterprise: "initech",
      dataDir: "enterprise-data",
      upstreams: { acme: u },
    });
    const url = "https://activation.acme.example";
    const good = await readEnterpriseConfig(await write(cfg({ kind: "carrier", url })));
    assert.deepEqual(good.upstreams.acme, { kind: "carrier", baseUrl: url });
    const place = { ...ENDPOINTS[2]!, config: cfg };
    await refused(place, [
      [
        { kind: "carrier", url, token: SECRET },
        (w) => new RegExp(`: ${w}: unknown field "token"; fields are kind, verdictKey, url$`),
      ],
      [
        { kind: "carrier", url: "ftp://x" },
        (w) => new RegExp(`: ${w}\\.url must be the carrier's`),
      ],
      [[{ kind: "carrier", url }], (w) => new RegExp(`: ${w} must be an object`)],
      [{ kind: "mdas", url }, (w) => new RegExp(`: ${w}\\.kind must be "carrier" or "platform"`)],
    ]);
  });

  for (const place of POLICIES) {
    test(`${place.where} (serve ${place.part}): every bad policy refused alike`, async () => {
      const ok = { subsidyLock: "days-after-activation:60", terminatedMayPortOut: true };
      assert.deepEqual(place.got((await place.read(await write(place.config(ok)))) as never), ok);
      assert.deepEqual(
        place.got((await place.read(await write(place.config({})))) as never),
        {},
        "every field optional",
      );
      const shape = '\\{ "subsidyLock": "…", "terminatedMayPortOut": true\\|false \\}';
      await refused(place, [
        ["none", (w) => new RegExp(`: ${w} must be ${shape}$`)],
        [null, (w) => new RegExp(`: ${w} must be ${shape}$`)],
        [
          { subsidyLock: "none", other: true },
          (w) => new RegExp(`: ${w} must be ${shape}: unknown field "other"$`),
        ],
        [{ subsidyLock: 60 }, (w) => new RegExp(`: ${w} must be ${shape}: subsidyLock is not`)],
        [
          { terminatedMayPortOut: "yes" },
          (w) => new RegExp(`: ${w} must be ${shape}: terminatedMayPortOut is not true or false$`),
        ],
        [
          { subsidyLock: "days-after-activation:9999" },
          (w) => new RegExp(`: ${w}: subsidy lock policy "days-after-activation:9999" is not`),
        ],
      ]);
    });
  }

  test("db, in the config or as --db: only sqlite:PATH or a postgres URL that parses; exit 2", async () => {
    const base = { carrier: "acme", dataDir: "db-data", oemCaCertificate: "oem-ca.pem" };
    for (const db of ["mysql://u:pw@h/db", "postgres://u:hun/ter2@127.0.0.1:1/x"]) {
      const file = await write({ ...base, db });
      const r = await runCli(["serve", "carrier", "--config", file]);
      assert.equal(r.code, 2, r.stderr);
      assert.equal(
        oneLine(r.stderr),
        `dmguard: ${file}: db must be sqlite:PATH or a postgres:// URL (a password's reserved characters percent-encoded)`,
      );
      const flag = await runCli(["serve", "carrier", "--config", await write(base), "--db", db]);
      assert.equal(flag.code, 2, flag.stderr);
      assert.match(
        oneLine(flag.stderr),
        /^dmguard: --db must be sqlite:PATH or a postgres:\/\/ URL/,
      );
      for (const out of [r.stderr, flag.stderr]) assert.ok(!/pw@|ter2/.test(out), out);
    }
    const left = await readdir(dir.path);
    assert.ok(!left.includes("db-data"), `nothing created: ${left}`);
  });

  test("through each command: exit 2, that one line, nothing created", async () => {
    const bad: Array<[Place, unknown, RegExp]> = [
      [
        ENDPOINTS[0]!,
        { url: "http://127.0.0.1:9/platform", token: SECRET, tokenFile: "good.token" },
        /: platform: both "token" and "tokenFile" given/,
      ],
      [
        ENDPOINTS[2]!,
        { url: "http://127.0.0.1:9", tokenFile: "empty.token" },
        /: upstreams\.acme\.tokenFile .*empty\.token holds no token/,
      ],
      [
        POLICIES[1]!,
        { subsidyLock: "none", other: 1 },
        /: migrationPolicies\.acme must be .*: unknown field "other"/,
      ],
    ];
    for (const [place, value, why] of bad) {
      const file = await write(place.config(value));
      const r = await runCli(["serve", place.part, "--config", file]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(oneLine(r.stderr), why);
      assert.ok(!r.stderr.includes(SECRET), "no secret on stderr");
    }
    const left = await readdir(dir.path);
    assert.ok(!left.some((f) => f.endsWith("-data")), `nothing created: ${left}`);
  });
});
