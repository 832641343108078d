import { isKeystoreError, type RecipientPublicKey, type WrappedKey } from "../../keystore/index.js";
import type { CarrierContext } from "../context.js";
import { CarrierError } from "../errors.js";

/**
 * Issues a device security key for manufacture (DESIGN.md Manufacture: "the first carrier's
 * security key in slot 0 … the carrier also holds"): made inside the keystore and returned
 * only HPKE-wrapped (RFC 9180) to the device TSZ's public key; the inventory row for the device
 * then names its kid. With `custodyPublicKey` (the platform's `GET /platform/transport-key`),
 * the keystore also wraps the new key to the platform, once, so the carrier can deposit it in
 * its custody there while the key stays non-extractable here.
 */
export async function issueSlotKey(
  ctx: CarrierContext,
  hpkePublicKey: unknown,
  custodyPublicKey?: unknown,
): Promise<{ kid: string; owner: string; wrapped: WrappedKey; custodyWrapped?: WrappedKey }> {
  const key = (v: unknown): RecipientPublicKey =>
    typeof v === "string" ? new Uint8Array(Buffer.from(v, "base64url")) : (v as RecipientPublicKey);
  try {
    const { kid, wrapped, custodyWrapped } = await ctx.keys.createDeviceKey(
      key(hpkePublicKey),
      custodyPublicKey === undefined ? {} : { custody: key(custodyPublicKey) },
    );
    const now = ctx.now();
    await ctx.part.audit.append(
      {
        actor: ctx.owner,
        action: "slot-key-issued",
        details: { kid, custody: custodyWrapped !== undefined },
      },
      now,
    );
    return {
      kid,
      owner: ctx.owner,
      wrapped,
      ...(custodyWrapped === undefined ? {} : { custodyWrapped }),
    };
  } catch (err) {
    if (
      isKeystoreError(err) &&
      (err.code === "RECIPIENT_KEY_INVALID" || err.code === "BAD_REQUEST")
    ) {
      throw new CarrierError(
        "RECIPIENT_KEY_INVALID",
        "hpkePublicKey and custodyPublicKey must be P-256 public JWKs or 65-byte points, base64url",
      );
    }
    throw err;
  }
}
