import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type DeviceReason,
  isDeviceError,
  sortReasons,
  TAMPER_KINDS,
  type TamperKind,
} from "../../src/device/index.js";
import { cloneDevice, makeDevice, nonce, useLab } from "./helpers.js";

/** CONTRACT.md, "What each tamper KIND reports". */
const EXPECTED: Record<TamperKind, DeviceReason[]> = {
  "payload-size": ["PAYLOAD_SIZE", "PAYLOAD_CRC"],
  "payload-crc": ["PAYLOAD_CRC"],
  "payload-format": ["PAYLOAD_FORMAT", "PAYLOAD_CRC"],
  "payload-key": ["PAYLOAD_KEY", "PAYLOAD_CRC"],
  su: ["ROOT_SU"],
  "ota-certs-missing": ["ROOT_OTA_CERTS"],
  "ota-certs-replaced": ["ROOT_OTA_CERTS"],
  "test-keys": ["ROOT_TEST_KEYS"],
  debuggable: ["ROOT_DEBUGGABLE"],
  permissions: ["ROOT_PERMISSIONS"],
  "os-image": ["OS_MODIFIED"],
  "imei-rewrite": ["IDENTITY_MISMATCH"],
};

let golden: string;
const lab = useLab({
  setup: async (lab) => {
    const { device, dir } = await makeDevice(lab);
    golden = dir;
    await device.close();
  },
});

async function reasonsAfter(kinds: TamperKind[]): Promise<DeviceReason[]> {
  const { device } = await cloneDevice(lab, golden);
  try {
    for (const k of kinds) await device.tamper(k);
    return (await device.verify(nonce())).reasons;
  } finally {
    await device.close();
  }
}

describe("tamper kinds", () => {
  test("a clean device reports no reason", async () => {
    assert.deepEqual(await reasonsAfter([]), []);
  });

  test("the table covers every CONTRACT kind", () => {
    assert.deepEqual(Object.keys(EXPECTED).sort(), [...TAMPER_KINDS].sort());
  });

  for (const kind of TAMPER_KINDS) {
    test(`${kind} → exactly ${EXPECTED[kind].join(" ")}`, async () => {
      assert.deepEqual(await reasonsAfter([kind]), sortReasons(EXPECTED[kind]));
    });
  }

  test("every pair of tampers reports the union of their reasons", async () => {
    const kinds = [...TAMPER_KINDS];
    for (let i = 0; i < kinds.length; i++) {
      for (let j = i + 1; j < kinds.length; j++) {
        const a = kinds[i]!;
        const b = kinds[j]!;
        const want = sortReasons([...EXPECTED[a], ...EXPECTED[b]]);
        assert.deepEqual(await reasonsAfter([a, b]), want, `${a} + ${b}`);
      }
    }
  });

  test("all twelve tampers at once report the union of the table", async () => {
    const all = sortReasons(Object.values(EXPECTED).flat());
    assert.deepEqual(await reasonsAfter([...TAMPER_KINDS]), all);
  });

  test("a tamper applied twice still reports the same", async () => {
    for (const kind of TAMPER_KINDS) {
      assert.deepEqual(await reasonsAfter([kind, kind]), sortReasons(EXPECTED[kind]), kind);
    }
  });

  test("an unknown kind is refused with TAMPER_KIND_UNKNOWN", async () => {
    const { device } = await cloneDevice(lab, golden);
    try {
      await assert.rejects(device.tamper("rootkit"), (e) =>
        isDeviceError(e, "TAMPER_KIND_UNKNOWN"),
      );
      assert.deepEqual((await device.verify(nonce())).reasons, []);
    } finally {
      await device.close();
    }
  });
});
