/**
 * Management tree URIs (OMA-TS-DM_TND §6 "Uniform Resource Identifiers", TND §8.2.2.1): a node is
 * addressed relative to the tree root, either as `./A/B` or as `A/B`; `.` alone is the root.
 * The restrictions on RFC 2396 applied here:
 * - no trailing `/`, no empty segment, no `.` or `..` segment past the leading `./`;
 * - no absolute path (`/A`), no fragment, no control characters;
 * - the only queries are `?prop=<property>` (TND §8.3.3) and `?list=<attribute>` (TND §8.4.1);
 * - URIs compare case-sensitively, segment by segment, without percent-decoding (a node's name
 *   is exactly the segment text the server sent).
 * Device limits come from DevDetail/URI (OMA-TS-DM_StdObj §7.1.3.3): MaxDepth segments,
 * MaxTotLen characters in the whole URI, MaxSegLen characters per segment; 0 means unlimited.
 * A URI over a limit gets (414) URI too long; a malformed one (400) Bad request; an unknown
 * property or list attribute (406) Optional feature not supported.
 */
import { StatusCode } from "../status.js";

export const PROPERTY_NAMES = [
  "ACL",
  "Format",
  "Name",
  "Size",
  "Title",
  "TStamp",
  "Type",
  "VerNo",
] as const;
export type PropertyName = (typeof PROPERTY_NAMES)[number];

/** `?list=` attributes this tree serves (TND §8.4.1); TNDS is answered with 406. */
export type ListAttribute = "Struct" | "StructData";

export type UriQuery =
  | { readonly kind: "prop"; readonly name: PropertyName }
  | { readonly kind: "list"; readonly attribute: ListAttribute };

export interface DmUri {
  /** Node names from the root down; empty for the root itself. */
  readonly segments: readonly string[];
  /** The path part exactly as sent (`./A/B`, `A/B` or `.`), used to echo Source LocURIs. */
  readonly path: string;
  readonly query?: UriQuery;
}

export interface UriLimits {
  /** Most segments in a URI; 0 = unlimited. */
  readonly maxDepth: number;
  /** Most characters in a whole URI, query included; 0 = unlimited. */
  readonly maxTotLen: number;
  /** Most characters in one segment; 0 = unlimited. */
  readonly maxSegLen: number;
}

export type UriParseResult =
  | { readonly ok: true; readonly uri: DmUri }
  | { readonly ok: false; readonly status: number; readonly reason: string };

const fail = (status: number, reason: string): UriParseResult => ({ ok: false, status, reason });

/** Characters no segment may hold: separators, query/fragment marks, C0/C1 controls, DEL. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it rejects
const FORBIDDEN_IN_SEGMENT = /[/?#\u0000-\u001f\u007f-\u009f]/u;

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** Checks one node name against TND §6 and the segment-length limit. */
export function checkSegment(
  name: string,
  limits: UriLimits,
): { status: number; reason: string } | undefined {
  if (name === "") return { status: StatusCode.BAD_REQUEST, reason: "empty segment" };
  if (name === "." || name === "..") {
    return { status: StatusCode.BAD_REQUEST, reason: `segment "${name}" is not allowed` };
  }
  if (FORBIDDEN_IN_SEGMENT.test(name)) {
    return { status: StatusCode.BAD_REQUEST, reason: "segment holds a forbidden character" };
  }
  if (
    limits.maxSegLen > 0 &&
    name.length > limits.maxSegLen &&
    codePoints(name) > limits.maxSegLen
  ) {
    return { status: StatusCode.URI_TOO_LONG, reason: `segment longer than ${limits.maxSegLen}` };
  }
  return undefined;
}

function parseQuery(query: string): UriParseResult | UriQuery {
  const eq = query.indexOf("=");
  if (eq < 0) return fail(StatusCode.BAD_REQUEST, "query without '='");
  const key = query.slice(0, eq);
  const value = query.slice(eq + 1);
  if (value.includes("&") || value.includes("=") || value === "") {
    return fail(StatusCode.BAD_REQUEST, "malformed query");
  }
  if (key === "prop") {
    const name = PROPERTY_NAMES.find((p) => p === value);
    if (!name)
      return fail(StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED, `unsupported property ${value}`);
    return { kind: "prop", name };
  }
  if (key === "list") {
    if (value === "Struct" || value === "StructData") return { kind: "list", attribute: value };
    return fail(StatusCode.OPTIONAL_FEATURE_NOT_SUPPORTED, `unsupported list attribute ${value}`);
  }
  return fail(StatusCode.BAD_REQUEST, `unknown query ${key}`);
}

export function parseDmUri(raw: string, limits: UriLimits): UriParseResult {
  // Cheap bound first, so a huge URI is refused before it is scanned (a code point takes at
  // most two UTF-16 units); within the limit in UTF-16 units it is within it in code points.
  if (limits.maxTotLen > 0 && raw.length > 2 * limits.maxTotLen) {
    return fail(StatusCode.URI_TOO_LONG, `URI longer than ${limits.maxTotLen}`);
  }
  if (limits.maxTotLen > 0 && raw.length > limits.maxTotLen && codePoints(raw) > limits.maxTotLen) {
    return fail(StatusCode.URI_TOO_LONG, `URI longer than ${limits.maxTotLen}`);
  }
  if (raw === "") return fail(StatusCode.BAD_REQUEST, "empty URI");

  const q = raw.indexOf("?");
  const path = q < 0 ? raw : raw.slice(0, q);
  let query: UriQuery | undefined;
  if (q >= 0) {
    const parsed = parseQuery(raw.slice(q + 1));
    if ("ok" in parsed) return parsed;
    query = parsed;
  }

  let rest: string;
  if (path === ".") rest = "";
  else if (path.startsWith("./")) rest = path.slice(2);
  else if (path.startsWith("/")) return fail(StatusCode.BAD_REQUEST, "absolute path URI");
  else rest = path;
  if (rest === "" && path !== ".") return fail(StatusCode.BAD_REQUEST, "empty path");

  const segments = rest === "" ? [] : rest.split("/");
  if (limits.maxDepth > 0 && segments.length > limits.maxDepth) {
    return fail(StatusCode.URI_TOO_LONG, `URI deeper than ${limits.maxDepth}`);
  }
  for (const s of segments) {
    const bad = checkSegment(s, limits);
    if (bad) return fail(bad.status, bad.reason);
  }
  return { ok: true, uri: query ? { segments, path, query } : { segments, path } };
}

/**
 * Parsed URIs per set of limits, for the tree's own lookups: a session names the same few nodes
 * over and over (DevInfo, the account's AppAuth leaves), and parsing is a measurable part of
 * every tree call. Results are frozen because they are shared. The cache is bounded because URIs
 * come from servers: an unbounded one would let a peer grow memory at will; when full, the
 * oldest entry goes (Map keeps insertion order).
 */
const parsedUris = new WeakMap<UriLimits, Map<string, UriParseResult>>();
const MAX_CACHED_URIS = 256;

/** `parseDmUri`, answered from a bounded cache; the result is frozen and shared. */
export function parseDmUriCached(raw: string, limits: UriLimits): UriParseResult {
  let cache = parsedUris.get(limits);
  if (cache === undefined) {
    cache = new Map();
    parsedUris.set(limits, cache);
  } else {
    const hit = cache.get(raw);
    if (hit !== undefined) return hit;
  }
  const parsed = freezeResult(parseDmUri(raw, limits));
  if (cache.size >= MAX_CACHED_URIS) cache.delete(cache.keys().next().value as string);
  cache.set(raw, parsed);
  return parsed;
}

function freezeResult(r: UriParseResult): UriParseResult {
  if (r.ok) {
    Object.freeze(r.uri.segments);
    if (r.uri.query) Object.freeze(r.uri.query);
    Object.freeze(r.uri);
  }
  return Object.freeze(r);
}

/** The canonical absolute form: `.` for the root, `./A/B` otherwise. */
export function canonicalUri(segments: readonly string[]): string {
  return segments.length === 0 ? "." : `./${segments.join("/")}`;
}

/** A child's URI in the same style (relative or `./`) as its parent's as sent. */
export function childPath(parentPath: string, name: string): string {
  return parentPath === "." ? `./${name}` : `${parentPath}/${name}`;
}
