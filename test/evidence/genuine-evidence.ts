/** A real device, manufactured under `ca`, and one evidence it signed: what attestation checks. */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { type Device, manufactureDevice, type OemCa } from "../../src/device/index.js";

export async function genuineEvidence(
  root: string,
  ca: OemCa,
): Promise<{ device: Device; evidence: string }> {
  const { device } = await manufactureDevice(join(root, "d"), {
    model: "dmg-phone-1",
    carrier: "acme",
    oemCa: ca,
    slotKey: new Uint8Array(randomBytes(32)),
    kid: "kid-1",
    verdictKeys: [],
  });
  const { evidence } = await device.verify(randomBytes(16).toString("base64url"));
  return { device, evidence };
}
