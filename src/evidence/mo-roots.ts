/**
 * The roots of the dmguard management objects under ./Vendor (OMA-TS-DM_TND §6: vendor-specific
 * objects): the carrier's profile (src/carrier/PROFILE_MO.md) and the enterprise's group content
 * (src/enterprise/ENTERPRISE_MO.md). The servers write below them and the device's DM client
 * reads and gates writes below them; neither side may import the other, so the names live here,
 * beside the migration key's node (migration-node.ts), and a change reaches both sides at once.
 */
export const PROFILE_ROOT = "./Vendor/dmguard/Profile";
export const ENTERPRISE_ROOT = "./Vendor/dmguard/Enterprise";
