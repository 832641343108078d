/**
 * Namespace URIs to the three OMA DM vocabularies. OMA-TS-DM_RepPro §5 writes the SyncML URI as
 * `SYNCML:SYNCML1.2`, MetInf and DevInf as `syncml:metinf` / `syncml:devinf`; deployed clients
 * vary the case and some still say SyncML 1.1, so the match ignores case and surrounding spaces.
 */
import type { Namespace } from "../model/element.js";

export function namespaceForUri(uri: string): Namespace | undefined {
  // Exact spellings first: they are what nearly every message carries.
  switch (uri) {
    case "SYNCML:SYNCML1.2":
      return "syncml";
    case "syncml:metinf":
      return "metinf";
    case "syncml:devinf":
      return "devinf";
  }
  switch (uri.trim().toLowerCase()) {
    case "syncml:syncml1.2":
    case "syncml:syncml1.1":
      return "syncml";
    case "syncml:metinf":
      return "metinf";
    case "syncml:devinf":
      return "devinf";
  }
  return undefined;
}
