import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { encodeMessage } from "../../src/omadm/codec.js";
import type { Command, Encoding, Item, ItemData, SyncHdr } from "../../src/omadm/model/message.js";
import { makeHeader } from "../../src/omadm/session/envelope.js";
import { concatData } from "../../src/omadm/session/large-object.js";
import { pack, type Unit } from "../../src/omadm/session/packer.js";
import type { OutCommand } from "../../src/omadm/session/types.js";

const header = (msgId: number): SyncHdr =>
  makeHeader({
    sessionId: "1",
    msgId,
    target: { locUri: "IMEI:1" },
    source: { locUri: "http://s/dm" },
    maxMsgSize: 4096,
  });

const value = fc.oneof(
  fc
    .string({ unit: "grapheme", maxLength: 3000 })
    .map((s) => ({ format: "chr", data: s as Item["data"] })),
  fc.uint8Array({ maxLength: 3000 }).map((b) => ({ format: "bin", data: b as Item["data"] })),
);

const command = fc.tuple(fc.nat(999), value).map(
  ([n, v]): OutCommand => ({
    kind: "Replace",
    items: [{ target: { locUri: `./Vendor/N${n}` }, meta: { format: v.format }, data: v.data }],
  }),
);

/** Packs everything the way an engine does, message after message, until nothing is left. */
function drain(commands: OutCommand[], maxMsgSize: number, encoding: Encoding) {
  let units: Unit[] = commands.map((draft) => ({ draft }));
  const messages: Array<{ commands: readonly Command[]; final: boolean; bytes: number }> = [];
  for (let msgId = 1; units.length > 0 && msgId < 1000; msgId++) {
    const packed = pack({
      header: header(msgId),
      units,
      maxMsgSize,
      maxObjSize: undefined,
      mayFinish: true,
      encode: (m) => encodeMessage(m, encoding),
    });
    assert.equal(packed.refused.length, 0);
    messages.push({
      commands: packed.message.body.commands,
      final: packed.final,
      bytes: packed.body.length,
    });
    units = packed.rest;
  }
  return messages;
}

for (const encoding of ["xml", "wbxml"] as const) {
  test(`packing (${encoding}): every message fits, order and data survive, Size and MoreData as §2.2 says`, () => {
    fc.assert(
      fc.property(
        fc.array(command, { maxLength: 12 }),
        fc.integer({ min: 900, max: 6000 }),
        (cmds, max) => {
          const messages = drain(cmds, max, encoding);
          for (const m of messages) assert.ok(m.bytes <= max, `${m.bytes} > ${max}`);
          assert.ok(messages.slice(0, -1).every((m) => !m.final));
          if (messages.length > 0) assert.ok(messages.at(-1)!.final);
          // Reassemble: consecutive chunks with MoreData join the next item.
          const out: Array<{
            uri: string | undefined;
            data: ItemData[];
            size: number | undefined;
          }> = [];
          let open = false;
          for (const m of messages) {
            for (const c of m.commands) {
              const item = (c as { items: readonly Item[] }).items[0]!;
              if (open) {
                assert.equal(item.meta?.size, undefined, "Size only on the first chunk");
                out.at(-1)!.data.push(item.data!);
              } else {
                out.push({ uri: item.target?.locUri, data: [item.data!], size: item.meta?.size });
              }
              open = item.moreData === true;
            }
          }
          assert.equal(open, false);
          assert.equal(out.length, cmds.length);
          cmds.forEach((cmd, i) => {
            const want = (cmd as { items: readonly Item[] }).items[0]!;
            const got = out[i]!;
            assert.equal(got.uri, want.target?.locUri);
            assert.deepEqual(concatData(got.data), want.data);
          });
        },
      ),
      { numRuns: 60 },
    );
  });
}
