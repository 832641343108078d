import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";

/**
 * `generateKeyPairSync` whose key objects are imported from DER, so a test may export them as
 * JWK: Node 20 deadlocks when a JWK export of a freshly generated key object triggers a garbage
 * collection that frees that key's generator job (see newEcKey in
 * src/keystore/software/service.ts). A test making thousands of keys hit it.
 */
export function keyPair(
  type: "ec" | "ed25519",
  namedCurve?: "P-256" | "P-384",
): { publicKey: KeyObject; privateKey: KeyObject } {
  const der = { publicKeyEncoding: { type: "spki", format: "der" } as const };
  const { publicKey, privateKey } =
    type === "ec"
      ? generateKeyPairSync("ec", {
          namedCurve: namedCurve ?? "P-256",
          ...der,
          privateKeyEncoding: { type: "pkcs8", format: "der" },
        })
      : generateKeyPairSync("ed25519", {
          ...der,
          privateKeyEncoding: { type: "pkcs8", format: "der" },
        });
  return {
    publicKey: createPublicKey({ key: publicKey, format: "der", type: "spki" }),
    privateKey: createPrivateKey({ key: privateKey, format: "der", type: "pkcs8" }),
  };
}
