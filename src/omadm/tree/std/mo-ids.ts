/**
 * Management Object identifiers of the OMA DM standard objects (OMA-TS-DM_StdObj-V1_2 §7.1.3),
 * carried as the Type property of each MO's root node (TND §8.3.1 "Type").
 */
export const MO_ID = {
  DMACC: "urn:oma:mo:oma-dm-dmacc:1.0",
  DEVINFO: "urn:oma:mo:oma-dm-devinfo:1.0",
  DEVDETAIL: "urn:oma:mo:oma-dm-devdetail:1.0",
} as const;
