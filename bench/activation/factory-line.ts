/**
 * One factory line, in a worker thread that factory.ts starts: given its spec it loads the
 * stack's OEM CA, then makes each batch of phones it is sent as manufactureLean makes them (slot
 * keys through the CLI's CarrierAdmin, custody deposits through its PlatformClient) and sends
 * them back; an empty batch closes the line.
 */
import { parentPort } from "node:worker_threads";
import { CarrierAdmin } from "../../src/cli/stack/carrier-admin.js";
import { PlatformClient } from "../../src/cli/stack/platform-client.js";
import { loadOemCa, type OemCa } from "../../src/device/oem-ca.js";
import type { LineOrder, LineReport, LineSpec } from "./factory.js";
import {
  type FactoryCarrier,
  type FactoryCustody,
  type LeanDevice,
  manufactureLean,
} from "./lean-factory.js";

const port = parentPort;
if (!port) throw new Error("factory-line.ts runs in a worker thread");

interface Line {
  readonly spec: LineSpec;
  readonly ca: OemCa;
  readonly carrier: FactoryCarrier;
  readonly custody: FactoryCustody;
}

let line: Line | undefined;

async function open(spec: LineSpec): Promise<Line> {
  const c = spec.custody;
  const platform = new PlatformClient(c.url);
  return {
    spec,
    ca: await loadOemCa(spec.stackDir),
    carrier: new CarrierAdmin(spec.carrier, spec.carrierUrl, spec.token),
    custody: {
      transportKey: c.transportKey,
      deposit: (imei, record) => platform.deposit(spec.carrier, imei, record, c.token),
    },
  };
}

async function make(l: Line, imeis: readonly string[]): Promise<LeanDevice[]> {
  const devices: LeanDevice[] = new Array(imeis.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: l.spec.lineConcurrency }, async () => {
      while (next < imeis.length) {
        const i = next++;
        devices[i] = await manufactureLean(l.ca, l.carrier, imeis[i]!, l.spec.model, l.custody);
      }
    }),
  );
  return devices;
}

/** Thrown outside any promise, an error reaches the bench as the worker's "error" event. */
function fail(err: unknown): void {
  setImmediate(() => {
    throw err;
  });
}

port.on("message", (order: LineOrder) => {
  if (order.kind === "spec") {
    open(order.spec).then((l) => {
      line = l;
      port.postMessage({ kind: "ready" } satisfies LineReport);
    }, fail);
  } else if (!line) {
    fail(new Error("a factory line was sent phones to make before its spec"));
  } else if (order.imeis.length === 0) {
    port.close();
  } else {
    make(line, order.imeis).then(
      (devices) => port.postMessage({ kind: "made", devices } satisfies LineReport),
      fail,
    );
  }
});
