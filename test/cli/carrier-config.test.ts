// `serve carrier --config FILE`, read by the config reader every `serve` command shares: a good
// file is read as given (paths from the file's folder, the custody token inline or from a file);
// each bad one is refused with one line naming the file and the field, before anything exists.
import assert from "node:assert/strict";
import { readdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { CliError } from "../../src/cli/exit.js";
import { readCarrierConfig } from "../../src/cli/serve/carrier-config.js";
import { createOemCa } from "../../src/device/index.js";
import { tempDir } from "./stack-support.js";

describe("serve carrier: the config file", () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let n = 0;
  const write = async (body: unknown) => {
    n += 1;
    const file = join(dir.path, `c${n}.json`);
    await writeFile(file, typeof body === "string" ? body : JSON.stringify(body));
    return file;
  };
  const base = { carrier: "acme", dataDir: "data", oemCaCertificate: "oem-ca.pem" };

  before(async () => {
    dir = await tempDir("carrier-config");
    const ca = await createOemCa({ name: "Config OEM" });
    await writeFile(join(dir.path, "oem-ca.pem"), ca.certificatePem);
    await writeFile(
      join(dir.path, "oem-ca.json"),
      JSON.stringify({ certificatePem: ca.certificatePem, privateKeyPem: "not read" }),
    );
    await writeFile(join(dir.path, "no-pem.txt"), "nothing here");
    await writeFile(join(dir.path, "acme.token"), "  custody-token-of-acme-0123456789\n");
  });
  after(() => dir.remove());

  test("read as given: paths from the file's folder, the token from its file", async () => {
    const cfg = await readCarrierConfig(
      await write({
        ...base,
        oemCaCertificate: "oem-ca.json",
        db: "sqlite:db/acme.sqlite",
        port: 0,
        publicUrl: "https://acme.example",
        profile: { mcc: "310" },
        platform: { url: "http://127.0.0.1:9/platform", tokenFile: "acme.token" },
      }),
    );
    assert.equal(cfg.carrier, "acme");
    assert.equal(cfg.dataDir, join(dir.path, "data"));
    assert.equal(cfg.keystoreDir, join(dir.path, "data", "keystore"));
    assert.equal(cfg.db, `sqlite:${join(dir.path, "db/acme.sqlite")}`);
    assert.equal(cfg.port, 0);
    assert.equal(cfg.host, "127.0.0.1");
    assert.equal(cfg.publicUrl, "https://acme.example");
    assert.deepEqual(cfg.profile, { mcc: "310" });
    assert.deepEqual(cfg.platform, {
      url: "http://127.0.0.1:9/platform",
      token: "custody-token-of-acme-0123456789",
    });
    assert.equal(cfg.oemCaCertificatePems.length, 1);
    assert.match(
      cfg.oemCaCertificatePems[0]!,
      /^-----BEGIN CERTIFICATE-----\n[A-Za-z0-9+/=\n]+\n-----END CERTIFICATE-----\n$/,
    );
    assert.ok(!cfg.oemCaCertificatePems[0]!.includes("not read"));
    const plain = await readCarrierConfig(await write(base));
    assert.equal(plain.port, 8080);
    assert.equal(plain.platform, undefined);
    assert.equal(plain.migration, undefined);
  });

  test("each bad one: one line naming the file and the field, nothing created", async () => {
    const cases: Array<[unknown, RegExp, number?]> = [
      ["{", /is not valid JSON/],
      [[base], /must hold one JSON object/],
      [{ ...base, other: 1 }, /unknown field "other"; fields are carrier, dataDir/],
      [{ ...base, carrier: "" }, /carrier must be a non-empty string/],
      [{ ...base, carrier: "Not An Id" }, /carrier must be 1-32 lowercase letters/],
      [{ ...base, dataDir: 7 }, /dataDir must be a non-empty string/],
      [{ ...base, port: 70_000 }, /port must be an integer 0-65535/],
      [{ ...base, db: "" }, /db must be a non-empty string/],
      [{ ...base, publicUrl: "ftp://x" }, /publicUrl must be an http\(s\) URL/],
      [{ ...base, profile: "x" }, /profile must be an object/],
      [{ ...base, platform: [] }, /platform must be an object/],
      [{ ...base, platform: { url: "http://x", token: "t", x: 1 } }, /platform: unknown field "x"/],
      [{ ...base, platform: { url: "x", token: "t" } }, /platform\.url must be/],
      [{ ...base, platform: { url: "http://x" } }, /platform needs the carrier's custody token/],
      [
        { ...base, platform: { url: "http://x", tokenFile: "missing" } },
        /platform\.tokenFile: ENOENT/,
      ],
      [{ ...base, oemCaCertificate: undefined }, /oemCaCertificate must be a non-empty string/],
      [{ ...base, oemCaCertificate: "no-pem.txt" }, /oemCaCertificate .*no-pem\.txt holds no PEM/],
      // A file that cannot be read is the machine's problem, not the config's (exit 1).
      [
        { ...base, oemCaCertificate: "gone.pem" },
        /cannot read oemCaCertificate .*gone\.pem: ENOENT/,
        1,
      ],
    ];
    for (const [body, why, exit = 2] of cases) {
      const file = await write(body);
      await assert.rejects(readCarrierConfig(file), (err: CliError) => {
        assert.equal(err.exitCode, exit, `${JSON.stringify(body)}: ${err.message}`);
        assert.ok(err.message.startsWith(`${file}: `), err.message);
        assert.ok(!err.message.includes("\n"), err.message);
        assert.match(err.message, why);
        assert.ok(!err.message.includes("custody-token-of-acme"), "no secret in the error");
        return true;
      });
    }
    assert.deepEqual(
      (await readdir(dir.path)).filter((f) => !f.endsWith(".json")).sort(),
      ["acme.token", "no-pem.txt", "oem-ca.pem"],
      "nothing created",
    );
  });
});
