/**
 * The server TSZ's two hot operations per activation: sign one verdict, verify one slot-key
 * proof. Both cross the worker boundary, as they do in the carrier server. And what a fleet's
 * registration costs it: one device key made (sealed, written, synced) per phone.
 */
import { createHmac } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateRecipientKeyPair, openWrappedKey } from "../src/keystore/hpke-recipient.js";
import { openSoftwareKeystore } from "../src/keystore/index.js";
import type { Figure } from "./figure.js";

/** Runs `op` `total` times with `concurrency` in flight; returns operations per second. */
async function rate(total: number, concurrency: number, op: () => Promise<unknown>) {
  let started = 0;
  const t0 = performance.now();
  const lane = async () => {
    while (started < total) {
      started++;
      await op();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return total / ((performance.now() - t0) / 1000);
}

export async function benchKeystore(): Promise<Figure[]> {
  const dir = await mkdtemp(join(tmpdir(), "dmguard-bench-ks-"));
  const ks = await openSoftwareKeystore({ dir });
  try {
    await ks.ensureSigningKey("verdict");
    const device = await generateRecipientKeyPair();
    const { kid, wrapped } = await ks.createDeviceKey("carrier:acme", device.publicKey);
    const key = await openWrappedKey(device.privateKey, wrapped);
    const message = new Uint8Array(300).fill(1);
    const proof = new Uint8Array(createHmac("sha256", key).update(message).digest());
    const payload = JSON.stringify({ sub: "354999101234567", verdict: "approved", reasons: [] });
    await rate(500, 64, () => ks.signJws("verdict", payload)); // warm-up
    const sign = await rate(10_000, 64, () => ks.signJws("verdict", payload, { typ: "JWT" }));
    const verify = await rate(20_000, 64, () =>
      ks.verifyKeyProof("carrier:acme", kid, message, proof),
    );
    // A fleet's slot keys, 32 requests in flight as the bench's provisioning makes them: each
    // write's cost must not grow with the keys already there (BENCH_DEVICES, default 10,000).
    const fleet = Number(process.env.BENCH_DEVICES ?? 10_000);
    const t0 = performance.now();
    await rate(fleet, 32, () => ks.createDeviceKey("carrier:acme", device.publicKey));
    const createS = (performance.now() - t0) / 1000;
    // Each activation signs one verdict and checks one proof; the carrier targets 1,000/s.
    return [
      { name: "keystore signJws (worker, 64 in flight)", value: sign, unit: "ops/s", min: 1000 },
      {
        name: "keystore verifyKeyProof (worker, 64 in flight)",
        value: verify,
        unit: "ops/s",
        min: 1000,
      },
      { name: `keystore: ${fleet} device keys created, 32 in flight`, value: createS, unit: "s" },
    ];
  } finally {
    await ks.close();
    await rm(dir, { recursive: true, force: true });
  }
}
