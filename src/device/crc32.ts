/**
 * CRC-32 (ISO 3309 / ITU-T V.42, the zip and PNG CRC: reflected polynomial 0xEDB88320, initial
 * and final XOR 0xFFFFFFFF). The patent's "authoritative CRC value" over the OMA DM payload.
 * Written here because `zlib.crc32` only exists from Node 20.15 and the project supports 20.10.
 */
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** The CRC-32 of `data` as an unsigned 32-bit integer; `crc32("123456789") === 0xcbf43926`. */
export function crc32(data: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < data.length; i++) c = TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
