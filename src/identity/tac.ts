import { describe, IdentityError } from "./errors.js";
import { makeImei } from "./imei.js";
import { cryptoRandomInt, draw, type RandomInt } from "./random.js";

/**
 * The emulated device models and their Type Allocation Codes (3GPP TS 23.003 §6.2.1: the TAC,
 * the IMEI's first 8 digits, identifies the model). The models and TACs are invented for the
 * emulator; the GSM models use an unlikely 35-99-9x block, the CDMA model the 99 block that the
 * TIA allocates to dual-technology (CDMA + 3GPP) devices. Each TAC belongs to exactly one model.
 */
export interface DeviceModel {
  /** Model id used on the command line and in inventories, e.g. "dmg-phone-1". */
  readonly name: string;
  readonly marketingName: string;
  /** Every TAC allocated to the model, 8 digits each; the first is the one new devices favour. */
  readonly tacs: readonly string[];
  /** A CDMA model: its devices carry an MEID (and its pseudo-ESN) besides the IMEI. */
  readonly cdma: boolean;
}

function model(m: DeviceModel): DeviceModel {
  return Object.freeze({ ...m, tacs: Object.freeze([...m.tacs]) });
}

export const DEVICE_MODELS: readonly DeviceModel[] = Object.freeze([
  model({
    name: "dmg-phone-1",
    marketingName: "DMGuard Phone One",
    tacs: ["35999101", "35999102"],
    cdma: false,
  }),
  model({
    name: "dmg-phone-2",
    marketingName: "DMGuard Phone Two",
    tacs: ["35999201", "35999202", "35999203"],
    cdma: false,
  }),
  model({
    name: "dmg-tablet-1",
    marketingName: "DMGuard Tab",
    tacs: ["35999301"],
    cdma: false,
  }),
  model({
    name: "dmg-cdma-1",
    marketingName: "DMGuard Phone One CDMA",
    tacs: ["99999401", "99999402"],
    cdma: true,
  }),
]);

const BY_NAME = new Map(DEVICE_MODELS.map((m) => [m.name, m]));
const BY_TAC = new Map(DEVICE_MODELS.flatMap((m) => m.tacs.map((t) => [t, m] as const)));

/** The model with this name, or `undefined`. */
export function findModel(name: string): DeviceModel | undefined {
  return BY_NAME.get(name);
}

/** The model a TAC was allocated to, or `undefined` when the TAC is not in the table. */
export function modelForTac(tac: string): DeviceModel | undefined {
  return BY_TAC.get(tac);
}

/** The model's TACs; throws `MODEL_UNKNOWN` for a name not in the table. */
export function tacsForModel(name: string): readonly string[] {
  const m = BY_NAME.get(name);
  if (!m) {
    throw new IdentityError(
      "MODEL_UNKNOWN",
      `unknown device model ${describe(name)}; known: ${[...BY_NAME.keys()].join(", ")}`,
      "model",
    );
  }
  return m.tacs;
}

/** A valid IMEI for the model: one of its TACs, a uniform random serial, the check digit. */
export function generateImei(name: string, rng: RandomInt = cryptoRandomInt): string {
  const tacs = tacsForModel(name);
  const tac = tacs[draw(rng, tacs.length)]!;
  return makeImei(tac, draw(rng, 1_000_000));
}
