import { isKeystoreError, type RecipientPublicKey, type WrappedKey } from "../../keystore/index.js";
import type { CarrierContext } from "../context.js";
import { CarrierError } from "../errors.js";

/**
 * Issues a device security key for manufacture (DESIGN.md Manufacture: "the first carrier's
 * security key in slot 0 … the carrier also holds"): made inside the keystore and returned
 * only HPKE-wrapped (RFC 9180) to the device TSZ's public key; the inventory row for the device
 * then names its kid.
 */
export async function issueSlotKey(
  ctx: CarrierContext,
  hpkePublicKey: unknown,
): Promise<{ kid: string; owner: string; wrapped: WrappedKey }> {
  let recipient: RecipientPublicKey;
  if (typeof hpkePublicKey === "string") {
    recipient = new Uint8Array(Buffer.from(hpkePublicKey, "base64url"));
  } else {
    recipient = hpkePublicKey as RecipientPublicKey;
  }
  try {
    const { kid, wrapped } = await ctx.keys.createDeviceKey(recipient);
    const now = ctx.now();
    await ctx.part.audit.append(
      { actor: ctx.owner, action: "slot-key-issued", details: { kid } },
      now,
    );
    return { kid, owner: ctx.owner, wrapped };
  } catch (err) {
    if (
      isKeystoreError(err) &&
      (err.code === "RECIPIENT_KEY_INVALID" || err.code === "BAD_REQUEST")
    ) {
      throw new CarrierError(
        "RECIPIENT_KEY_INVALID",
        "hpkePublicKey must be a P-256 public JWK or the 65-byte point, base64url",
      );
    }
    throw err;
  }
}
