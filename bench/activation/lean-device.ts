/**
 * The load generator's phone at work (made by lean-factory.ts): one full activation with the
 * device's own code: evidence claims, ES256 signature and key proof from
 * src/device/tsz/evidence.ts, the verdict check against the pinned key from
 * src/device/tsz/verdict.ts, and an OMA DM session of the omadm client engine on a tree set up
 * as the device's DM client sets one up (src/device/normal), in WBXML as phones speak it,
 * asserting the profile MO arrived.
 *
 * Each activation starts from a fresh phone's DM tree: the factory tree, built once per phone
 * and restored from its snapshot afterwards rather than rebuilt.
 *
 * What it does not do is the verification application's file reads: a clean phone's
 * measurements are its reference values, so it reports those.
 */
import { installDmAccount, readTreeAccount } from "../../src/device/normal/dm-account.js";
import { grantVendor } from "../../src/device/normal/dm-bootstrap.js";
import { profileFromTree } from "../../src/device/normal/dm-profile.js";
import { triggerAlertItem } from "../../src/device/normal/dm-triggers.js";
import { buildEvidenceClaims, signEvidence } from "../../src/device/tsz/evidence.js";
import { checkVerdict } from "../../src/device/tsz/verdict.js";
import type { VerificationResult } from "../../src/device/tsz/verification.js";
import { DmClient } from "../../src/omadm/session/client.js";
import { DmTree } from "../../src/omadm/tree/dm-tree.js";
import {
  mountDevDetail,
  mountDevInfo,
  mountDmAcc,
  updateDmAccountNonces,
} from "../../src/omadm/tree/index.js";
import type { BenchHttp } from "./http-client.js";
import { type FactoryTree, type LeanDevice, REFERENCE } from "./lean-factory.js";

/** A clean phone's verification result: nothing found, its reference values measured. */
export function cleanResult(): VerificationResult {
  return {
    reasons: [],
    matchedSlot: 0,
    measured: {
      payloadSize: REFERENCE.payloadSize,
      payloadCrc32: REFERENCE.payloadCrc32,
      root: {
        suPaths: [],
        buildProps: new Map([["ro.build.tags", "release-keys"]]),
        modes: {},
        otaCertsSha256: REFERENCE.otaCertsSha256,
        osImageSha256: REFERENCE.osImageSha256,
      },
    },
  };
}

/** A fresh phone's DM tree (the device's bootstrap, minus the files it reads them from). */
function freshTree(d: LeanDevice): FactoryTree {
  const tree = new DmTree();
  mountDevInfo(tree, { devId: `IMEI:${d.state.imei}`, man: "DMGuard", mod: d.state.model });
  mountDevDetail(tree, {
    devTyp: "phone",
    oem: "DMGuard",
    fwV: "1.0",
    swV: "14",
    hwV: d.state.model,
    lrgObj: true,
  });
  mountDmAcc(tree);
  return { tree, factory: tree.snapshot() };
}

interface VerdictAnswer {
  verdict: string;
  decision: string;
  dmAccount: unknown;
}

/**
 * One full activation: nonce, evidence, the signed verdict checked against the pinned key, the
 * DM session that provisions the profile. Throws unless the phone ends approved and provisioned.
 */
export async function activateLean(
  d: LeanDevice,
  http: BenchHttp,
  carrierUrl: string,
): Promise<void> {
  const { nonce } = await http.postJson<{ nonce: string }>(`${carrierUrl}/activation/nonce`, {});
  const claims = buildEvidenceClaims(d.state, cleanResult(), nonce, 0);
  const evidence = await signEvidence(
    claims,
    d.signingKey,
    d.certificateDer,
    d.state.slots[0]!.key,
  );
  const answer = await http.postJson<VerdictAnswer>(`${carrierUrl}/activation/evidence`, {
    evidence,
  });
  const record = await checkVerdict(answer.verdict, d.state, nonce);
  if (record.verdict !== "approved" || answer.decision !== "approved") {
    throw new Error(`${d.state.imei} was ${record.verdict}: ${record.reasons.join(" ")}`);
  }
  const factory = d.trees.pop() ?? freshTree(d);
  try {
    await dmSession(factory.tree, answer.dmAccount, http, d.state.imei, record.carrier);
  } finally {
    factory.tree.restore(factory.factory);
    d.trees.push(factory);
  }
}

/** The DM session that provisions the profile, on a fresh phone's tree. */
async function dmSession(
  tree: DmTree,
  dmAccount: unknown,
  http: BenchHttp,
  imei: string,
  carrier: string,
): Promise<void> {
  const account = installDmAccount(tree, dmAccount);
  grantVendor(tree, account.serverId);
  const client = new DmClient({
    tree,
    account: readTreeAccount(tree, account.serverId)!,
    transport: http.dmTransport(),
    encoding: "wbxml",
    hooks: {
      persistNonces: (u) => {
        updateDmAccountNonces(tree, account.serverId, u);
      },
    },
  });
  client.queueGenericAlert({ items: [triggerAlertItem("hfa")] });
  const r = await client.start();
  if (r.outcome !== "completed") throw new Error(`${imei}: DM session ${r.outcome}`);
  const profile = profileFromTree(tree);
  if (profile?.carrier !== carrier || profile.access !== "full") {
    throw new Error(`${imei}: the DM session did not provision the profile`);
  }
}
