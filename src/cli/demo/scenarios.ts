/**
 * The demo fleet of `dmguard up --demo`: a few clean devices on both carriers and one device
 * for each way a device can fail, each with the verdict CONTRACT.md says it must get.
 */
import type { TamperKind } from "../../device/index.js";
import { type Expectation, expectedFor } from "../fleet/expected.js";

export interface DemoScenario {
  what: string;
  carrier: "acme" | "globex";
  model: string;
  userGroup: string;
  tamper?: TamperKind[];
  counterfeit?: boolean;
  register?: boolean;
  block?: boolean;
  /** Index of the device whose IMEI this one copies (a clone); made without registering. */
  cloneOf?: number;
  /** Enrolled at this enterprise at manufacture. */
  enterprise?: string;
  /** Activates through this (`enterprise:initech`) instead of its carrier. */
  via?: string;
  expected: Expectation;
}

const denied = (...reasons: string[]): Expectation => expectedFor([], reasons);

export const DEMO_SCENARIOS: readonly DemoScenario[] = [
  {
    what: "clean phone",
    carrier: "acme",
    model: "dmg-phone-1",
    userGroup: "executive",
    expected: expectedFor([]),
  },
  {
    what: "clean tablet",
    carrier: "globex",
    model: "dmg-tablet-1",
    userGroup: "worker",
    expected: expectedFor([]),
  },
  {
    what: "clean CDMA phone (MEID, pESN)",
    carrier: "acme",
    model: "dmg-cdma-1",
    userGroup: "technology",
    expected: expectedFor([]),
  },
  {
    what: "rooted: su binary installed",
    carrier: "acme",
    model: "dmg-phone-2",
    userGroup: "worker",
    tamper: ["su"],
    expected: expectedFor(["su"]),
  },
  {
    what: "DM payload edited by root",
    carrier: "globex",
    model: "dmg-phone-1",
    userGroup: "worker",
    tamper: ["payload-format"],
    expected: expectedFor(["payload-format"]),
  },
  {
    what: "OS image modified",
    carrier: "acme",
    model: "dmg-phone-1",
    userGroup: "worker",
    tamper: ["os-image"],
    expected: expectedFor(["os-image"]),
  },
  {
    what: "IMEI rewritten in the OS",
    carrier: "globex",
    model: "dmg-phone-2",
    userGroup: "worker",
    tamper: ["imei-rewrite"],
    expected: expectedFor(["imei-rewrite"]),
  },
  {
    what: "debug build (test-keys)",
    carrier: "acme",
    model: "dmg-tablet-1",
    userGroup: "technology",
    tamper: ["test-keys", "debuggable"],
    expected: expectedFor(["test-keys", "debuggable"]),
  },
  {
    what: "counterfeit (certificate not the OEM's)",
    carrier: "acme",
    model: "dmg-phone-1",
    userGroup: "worker",
    counterfeit: true,
    expected: denied("ATTESTATION_INVALID"),
  },
  {
    what: "reported stolen (blocked)",
    carrier: "globex",
    model: "dmg-phone-1",
    userGroup: "worker",
    block: true,
    expected: denied("DEVICE_BLOCKED"),
  },
  {
    what: "grey market (never registered)",
    carrier: "acme",
    model: "dmg-phone-2",
    userGroup: "worker",
    register: false,
    expected: denied("UNKNOWN_DEVICE"),
  },
  {
    what: "clone of #1 (its IMEI, other keys)",
    carrier: "acme",
    model: "dmg-phone-1",
    userGroup: "worker",
    cloneOf: 0,
    expected: denied("KEY_PROOF_INVALID", "CLONE_SUSPECTED"),
  },
  // Patent method 2: through the enterprise MDAS initech (globex's devices via the platform).
  {
    what: "via initech, enrolled executive",
    carrier: "globex",
    model: "dmg-phone-1",
    userGroup: "executive",
    enterprise: "initech",
    via: "enterprise:initech",
    expected: expectedFor([]),
  },
  {
    what: "via initech, not enrolled",
    carrier: "acme",
    model: "dmg-phone-2",
    userGroup: "worker",
    via: "enterprise:initech",
    expected: denied("NOT_ENROLLED"),
  },
];
