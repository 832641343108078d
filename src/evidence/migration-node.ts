/**
 * The migration key node of the carrier's MO (src/carrier/PROFILE_MO.md, "Migration"; EVIDENCE.md
 * "Migration"): in the DM session after a migration approval, the new carrier Replaces this leaf
 * with its key, HPKE-wrapped to the TSZ (the keystore's WrappedKey as JSON); the device's DM
 * client hands the value to its TSZ instead of writing it to the tree. Named here so the server
 * and the device agree on it.
 */
export const MIGRATION_KEY_URI = "./Vendor/dmguard/Migration/WrappedKey";
