import { readFile } from "node:fs/promises";
import { DmTree, type NodeFormat } from "../../omadm/tree/index.js";
import { writeFileAtomic } from "../atomic-write.js";
import { isRecord } from "../validate.js";
import { DmClientError } from "./dm-errors.js";
import { DEVICE_PATHS, within } from "./layout.js";

/**
 * The DM client's tree on disk (`data/omadm/dmtree.json`), so ./DMAcc with its rotated nonces
 * and the provisioned profile MO outlive the process, as a phone's DM client keeps its tree in
 * flash. One JSON document, nodes in pre-order (a parent before its children), each with the
 * properties a device may set (TND §8.3.1: Format, Type, ACL, Title, the value) and whether it
 * is permanent. TStamp and VerNo are run-time properties and restart at load.
 *
 *   { "format": "dmguard-dmtree/1", "rootAcl": "Add=*&Get=*",
 *     "nodes": [ { "uri": "./DevInfo", "format": "node", "acl": "Get=*", … },
 *                { "uri": "./DevInfo/DevId", "format": "chr", "text": "IMEI:…" },
 *                { "uri": "./DMAcc/acme-dm/AppAuth/1/AAuthData", "format": "bin", "bytes": "<b64>" } ] }
 *
 * The file holds the DM secrets, as DMAcc does on a real device, so it is written 0600. It is
 * normal-world data that root may edit; it is parsed with limits and rebuilt through the tree's
 * own checks, and anything off is DM_TREE_CORRUPT (a factory reset removes it).
 */
export const DM_TREE_FORMAT = "dmguard-dmtree/1";
/** Far above a real tree (about 20 KB with a profile); bounds what a load reads. */
export const MAX_DM_TREE_BYTES = 1024 * 1024;

interface SerialNode {
  uri: string;
  format: NodeFormat;
  type?: string;
  acl?: string;
  title?: string;
  permanent?: true;
  /** A text leaf's value. */
  text?: string;
  /** A byte leaf's value, base64. */
  bytes?: string;
}

/** The tree as JSON text, every node from the root down. */
export function serializeDmTree(tree: DmTree): string {
  const nodes: SerialNode[] = [];
  const walk = (uri: string) => {
    for (const name of tree.children(uri) ?? []) {
      const child = `${uri}/${name}`;
      const info = tree.inspect(child);
      if (!info) continue;
      const n: SerialNode = { uri: child, format: info.format };
      if (info.type !== "") n.type = info.type;
      if (info.acl !== "") n.acl = info.acl;
      if (info.title !== "") n.title = info.title;
      if (info.permanent) n.permanent = true;
      if (!info.interior) {
        if (typeof info.value === "string") n.text = info.value;
        else if (info.value) n.bytes = Buffer.from(info.value).toString("base64");
      }
      nodes.push(n);
      if (info.interior) walk(child);
    }
  };
  walk(".");
  const rootAcl = tree.inspect(".")?.acl ?? "";
  return `${JSON.stringify({ format: DM_TREE_FORMAT, rootAcl, nodes })}\n`;
}

function corrupt(why: string): DmClientError {
  return new DmClientError(
    "DM_TREE_CORRUPT",
    `the DM tree (${DEVICE_PATHS.dmTree}) is corrupt: ${why}; a factory reset rebuilds it`,
  );
}

const optionalText = (v: unknown): v is string | undefined =>
  v === undefined || typeof v === "string";

/** Rebuilds a tree from `serializeDmTree`'s text; DM_TREE_CORRUPT on anything else. */
export function parseDmTree(text: string): DmTree {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw corrupt("not JSON");
  }
  if (!isRecord(doc) || doc.format !== DM_TREE_FORMAT || !Array.isArray(doc.nodes)) {
    throw corrupt(`not a ${DM_TREE_FORMAT} document`);
  }
  let tree: DmTree;
  try {
    tree = new DmTree(typeof doc.rootAcl === "string" ? { rootAcl: doc.rootAcl } : {});
  } catch {
    throw corrupt("the root ACL is not valid");
  }
  for (const [i, raw] of doc.nodes.entries()) {
    if (
      !isRecord(raw) ||
      typeof raw.uri !== "string" ||
      typeof raw.format !== "string" ||
      !optionalText(raw.type) ||
      !optionalText(raw.acl) ||
      !optionalText(raw.title) ||
      !optionalText(raw.text) ||
      !optionalText(raw.bytes)
    ) {
      throw corrupt(`node ${i} is malformed`);
    }
    const opts = {
      ...(raw.acl !== undefined ? { acl: raw.acl } : {}),
      ...(raw.type !== undefined ? { type: raw.type } : {}),
      ...(raw.title !== undefined ? { title: raw.title } : {}),
      permanent: raw.permanent === true,
    };
    try {
      if (raw.format === "node") {
        tree.ensureInterior(raw.uri, opts);
      } else {
        const value =
          raw.bytes !== undefined
            ? new Uint8Array(Buffer.from(raw.bytes, "base64"))
            : (raw.text ?? "");
        tree.setLeaf(raw.uri, value, { ...opts, format: raw.format as NodeFormat });
      }
    } catch (err) {
      // The tree's own checks (URI, format, value, ACL syntax, limits) refused the node.
      throw corrupt(`node ${i}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  return tree;
}

/** The persisted tree, or null when the DM client has not saved one yet (or after a reset). */
export async function loadDmTree(dir: string): Promise<DmTree | null> {
  let bytes: Buffer;
  try {
    bytes = await readFile(within(dir, DEVICE_PATHS.dmTree));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw corrupt(`unreadable (${(err as NodeJS.ErrnoException).code ?? "I/O error"})`);
  }
  if (bytes.length > MAX_DM_TREE_BYTES) throw corrupt(`larger than ${MAX_DM_TREE_BYTES} bytes`);
  return parseDmTree(bytes.toString("utf8"));
}

/** Saves the tree atomically and durably: rotated nonces must survive a crash (Security §5.1.3.4). */
export async function saveDmTree(dir: string, tree: DmTree): Promise<void> {
  await writeFileAtomic(within(dir, DEVICE_PATHS.dmTree), serializeDmTree(tree), 0o600);
}
