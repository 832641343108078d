/**
 * WBXML global tokens and header constants (WAP-192-WBXML 1.3, §5.8.4 "Global Tokens",
 * §5.8.2 "Tag Code Space", §5.6 "Character Encoding"). Global tokens mean the same in every
 * code page; tag and attribute tokens are document-type specific (see `tables.ts`).
 */

/** §5.8.4.7.2: change the code page of the current token state; one u_int8 page number follows. */
export const SWITCH_PAGE = 0x00;
/** §5.8.4.7.1: end of an attribute list or of an element's content. */
export const END = 0x01;
/** §5.8.4.3: a character entity; an mb_u_int32 Unicode code point follows. */
export const ENTITY = 0x02;
/** §5.8.4.1: an inline string, NUL-terminated in the document's charset. */
export const STR_I = 0x03;
/** §5.8.4.5: a tag or attribute named by a string-table index (no attributes, no content). */
export const LITERAL = 0x04;
/** §5.8.4.2: inline-string extension tokens 0, 1, 2. */
export const EXT_I_0 = 0x40;
export const EXT_I_2 = 0x42;
/** §5.8.4.4: processing instruction: an attribute start, values, then END. */
export const PI = 0x43;
/** §5.8.4.5: literal tag with content. */
export const LITERAL_C = 0x44;
/** §5.8.4.2: string-table-reference extension tokens 0, 1, 2. */
export const EXT_T_0 = 0x80;
export const EXT_T_2 = 0x82;
/** §5.8.4.1: a string-table reference; an mb_u_int32 byte offset into the table follows. */
export const STR_T = 0x83;
/** §5.8.4.5: literal tag with attributes. */
export const LITERAL_A = 0x84;
/** §5.8.4.2: single-byte extension tokens 0, 1, 2. */
export const EXT_0 = 0xc0;
export const EXT_2 = 0xc2;
/** §5.8.4.6: opaque data; an mb_u_int32 length and that many bytes follow. */
export const OPAQUE = 0xc3;
/** §5.8.4.5: literal tag with attributes and content. */
export const LITERAL_AC = 0xc4;

/** §5.8.2: bit 6 of a tag token: the element has content and an END closes it. */
export const TAG_CONTENT = 0x40;
/** §5.8.2: bit 7 of a tag token: an attribute list, closed by END, follows the tag. */
export const TAG_ATTRIBUTES = 0x80;
/** §5.8.2: the low six bits identify the tag within its code page (0x05–0x3F). */
export const TAG_ID_MASK = 0x3f;
/** §5.8.2: the first tag identity a code page may assign; 0x00–0x04 are global tokens. */
export const FIRST_TAG_ID = 0x05;

/** §5.4: version byte, major−1 in the high nibble, minor in the low one; 0x02 is WBXML 1.2. */
export const WBXML_1_1 = 0x01;
export const WBXML_1_2 = 0x02;
export const WBXML_1_3 = 0x03;

/** §5.6 and IANA MIBenum: 106 is UTF-8, the only charset SyncML DM uses. */
export const CHARSET_UTF8 = 106;

/** §5.5: mb_u_int32 values are at most 32 bits, so at most five 7-bit groups. */
export const MB_U_INT32_MAX_BYTES = 5;
