/**
 * fast-check generators of valid SyncML DM messages (the model of src/omadm/model/message.ts),
 * shared by the codec, WBXML and session tests.
 *
 * "Valid" means what the binding promises to round-trip:
 * - leaf values other than Item Data carry no leading or trailing XML whitespace (the reader
 *   trims them) and only characters XML 1.0 can carry;
 * - Item Data is any such text, whitespace and markup characters included (kept verbatim), or,
 *   with `{ bytes: true }`, non-empty bytes (WBXML opaque; XML would turn them into base64 text);
 * - optional fields are absent rather than `undefined`; flags (`noResp`, `moreData`) are `true`
 *   or absent, as the reader produces them;
 * - the DTD's cardinalities hold: Item+ in Add/Copy/Delete/Replace/Get/Results, exactly one Item
 *   in Exec, no Status or Results inside Atomic/Sequence.
 */
import fc from "fast-check";
import type {
  Alert,
  Chal,
  Command,
  Container,
  Cred,
  Exec,
  Get,
  Item,
  ItemCommand,
  ItemData,
  Location,
  Meta,
  Results,
  Status,
  SyncHdr,
  SyncMLMessage,
} from "../../src/omadm/model/message.js";

export interface MessageArbOptions {
  /** Item Data may be bytes (for WBXML round trips); default false. */
  bytes?: boolean;
  /** Deepest Atomic/Sequence nesting; default 2. */
  maxNesting?: number;
}

/** One "character" of generated text: mostly printable ASCII, with what needs escaping. */
const textUnit: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.string({ unit: "grapheme-ascii", minLength: 1, maxLength: 1 }), weight: 10 },
  {
    arbitrary: fc.constantFrom(
      "&",
      "<",
      ">",
      '"',
      "'",
      "]]>",
      "&amp;",
      "<!--",
      "é",
      "€",
      "\u{1F600}",
      "\t",
      "\n",
      "\r",
      "\r\n",
      " ",
    ),
    weight: 3,
  },
);

/** Any text XML can carry. */
export const xmlText: fc.Arbitrary<string> = fc.string({ unit: textUnit, maxLength: 40 });

const XML_SPACE_AT_ENDS = /^[ \t\r\n]+|[ \t\r\n]+$/g;

/** A leaf value as the reader returns it: no XML whitespace at either end. */
export const leafText: fc.Arbitrary<string> = xmlText.map((s) => s.replace(XML_SPACE_AT_ENDS, ""));

/** Identifiers such as CmdID and MsgRef: usually small numbers, sometimes any leaf text. */
export const id: fc.Arbitrary<string> = fc.oneof(
  { arbitrary: fc.nat({ max: 9999 }).map(String), weight: 4 },
  { arbitrary: leafText, weight: 1 },
);

const count = fc.nat({ max: 2 ** 31 });

export const meta: fc.Arbitrary<Meta> = fc.record(
  {
    format: fc.oneof(fc.constantFrom("chr", "b64", "int", "bool", "node", "xml"), leafText),
    type: fc.oneof(fc.constantFrom("text/plain", "syncml:auth-md5", "application/xml"), leafText),
    mark: leafText,
    size: count,
    version: leafText,
    nextNonce: fc.base64String({ maxLength: 24 }),
    maxMsgSize: count,
    maxObjSize: count,
    emi: fc.array(leafText, { minLength: 1, maxLength: 3 }),
  },
  { requiredKeys: [], noNullPrototype: true },
);

export const location: fc.Arbitrary<Location> = fc.record(
  {
    locUri: fc.oneof(fc.constantFrom("./DevInfo/Mod", "IMEI:493005100592800"), leafText),
    locName: leafText,
  },
  { requiredKeys: ["locUri"], noNullPrototype: true },
);

export const cred: fc.Arbitrary<Cred> = fc.record(
  { meta, data: fc.base64String({ maxLength: 32 }) },
  { requiredKeys: ["data"], noNullPrototype: true },
);

export const chal: fc.Arbitrary<Chal> = fc.record({ meta }, { noNullPrototype: true });

export function itemData(opts: MessageArbOptions = {}): fc.Arbitrary<ItemData> {
  return opts.bytes ? fc.oneof(xmlText, fc.uint8Array({ minLength: 1, maxLength: 48 })) : xmlText;
}

export function item(opts: MessageArbOptions = {}): fc.Arbitrary<Item> {
  return fc.record(
    {
      target: location,
      source: location,
      meta,
      data: itemData(opts),
      moreData: fc.constant(true as const),
    },
    { requiredKeys: [], noNullPrototype: true },
  );
}

const noResp = fc.constant(true as const);

export const header: fc.Arbitrary<SyncHdr> = fc.record(
  {
    verDTD: fc.constant("1.2"),
    verProto: fc.constant("DM/1.2"),
    sessionId: id,
    msgId: id,
    target: location,
    source: location,
    respUri: leafText,
    noResp,
    cred,
    meta,
  },
  {
    requiredKeys: ["verDTD", "verProto", "sessionId", "msgId", "target", "source"],
    noNullPrototype: true,
  },
);

function items(opts: MessageArbOptions, minLength: number) {
  return fc.array(item(opts), { minLength, maxLength: 3 });
}

function itemCommand(opts: MessageArbOptions): fc.Arbitrary<ItemCommand> {
  return fc.record(
    {
      kind: fc.constantFrom("Add", "Copy", "Delete", "Replace"),
      cmdId: id,
      noResp,
      cred,
      meta,
      items: items(opts, 1),
    },
    { requiredKeys: ["kind", "cmdId", "items"], noNullPrototype: true },
  );
}

function get(opts: MessageArbOptions): fc.Arbitrary<Get> {
  return fc.record(
    {
      kind: fc.constant("Get" as const),
      cmdId: id,
      noResp,
      lang: leafText,
      cred,
      meta,
      items: items(opts, 1),
    },
    { requiredKeys: ["kind", "cmdId", "items"], noNullPrototype: true },
  );
}

function alert(opts: MessageArbOptions): fc.Arbitrary<Alert> {
  return fc.record(
    {
      kind: fc.constant("Alert" as const),
      cmdId: id,
      noResp,
      cred,
      data: fc.oneof(fc.constantFrom("1200", "1201", "1222", "1226", "1101"), leafText),
      correlator: leafText,
      items: items(opts, 0),
    },
    { requiredKeys: ["kind", "cmdId", "items"], noNullPrototype: true },
  );
}

function exec(opts: MessageArbOptions): fc.Arbitrary<Exec> {
  return fc.record(
    {
      kind: fc.constant("Exec" as const),
      cmdId: id,
      noResp,
      cred,
      meta,
      correlator: leafText,
      item: item(opts),
    },
    { requiredKeys: ["kind", "cmdId", "item"], noNullPrototype: true },
  );
}

export function status(opts: MessageArbOptions = {}): fc.Arbitrary<Status> {
  return fc.record(
    {
      kind: fc.constant("Status" as const),
      cmdId: id,
      msgRef: id,
      cmdRef: id,
      cmd: fc.constantFrom("SyncHdr", "Alert", "Get", "Replace", "Add", "Exec", "Atomic"),
      targetRefs: fc.array(leafText, { maxLength: 2 }),
      sourceRefs: fc.array(leafText, { maxLength: 2 }),
      cred,
      chal,
      code: fc.integer({ min: 100, max: 599 }),
      items: items(opts, 0),
    },
    {
      requiredKeys: [
        "kind",
        "cmdId",
        "msgRef",
        "cmdRef",
        "cmd",
        "targetRefs",
        "sourceRefs",
        "code",
        "items",
      ],
      noNullPrototype: true,
    },
  );
}

export function results(opts: MessageArbOptions = {}): fc.Arbitrary<Results> {
  return fc.record(
    {
      kind: fc.constant("Results" as const),
      cmdId: id,
      msgRef: id,
      cmdRef: id,
      meta,
      targetRef: leafText,
      sourceRef: leafText,
      items: items(opts, 1),
    },
    { requiredKeys: ["kind", "cmdId", "cmdRef", "items"], noNullPrototype: true },
  );
}

/** A command that may stand inside Atomic or Sequence, nested up to `depth` containers deep. */
export function nestableCommand(
  opts: MessageArbOptions = {},
  depth = opts.maxNesting ?? 2,
): fc.Arbitrary<Command> {
  const leaves: fc.Arbitrary<Command>[] = [itemCommand(opts), get(opts), alert(opts), exec(opts)];
  if (depth <= 0) return fc.oneof(...leaves);
  const container: fc.Arbitrary<Container> = fc.record(
    {
      kind: fc.constantFrom("Atomic", "Sequence"),
      cmdId: id,
      noResp,
      meta,
      commands: fc.array(nestableCommand(opts, depth - 1), { minLength: 1, maxLength: 3 }),
    },
    { requiredKeys: ["kind", "cmdId", "commands"], noNullPrototype: true },
  );
  return fc.oneof(
    { arbitrary: fc.oneof(...leaves), weight: 4 },
    { arbitrary: container, weight: 1 },
  );
}

export function command(opts: MessageArbOptions = {}): fc.Arbitrary<Command> {
  return fc.oneof(nestableCommand(opts), status(opts), results(opts));
}

export function message(opts: MessageArbOptions = {}): fc.Arbitrary<SyncMLMessage> {
  return fc.record(
    {
      header,
      body: fc.record(
        { commands: fc.array(command(opts), { maxLength: 6 }), final: fc.boolean() },
        { noNullPrototype: true },
      ),
    },
    { noNullPrototype: true },
  );
}
