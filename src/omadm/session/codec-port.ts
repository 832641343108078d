/**
 * The engines' view of the wire codec: they encode every outgoing message themselves because
 * they must measure it against the peer's MaxMsgSize (OMA-TS-DM_Protocol §2.1) and, with HMAC,
 * sign the exact bytes sent (OMA-TS-DM_Security §5.1.4.3).
 */
import { decodeMessage, encodeMessage, MEDIA_TYPE } from "../codec.js";
import type { Limits } from "../errors.js";
import type { Encoding, SyncMLMessage } from "../model/message.js";

export interface MessageCodec {
  encode(message: SyncMLMessage, encoding: Encoding): Uint8Array;
  decode(
    input: Uint8Array,
    limits?: Partial<Limits>,
  ): { message: SyncMLMessage; encoding: Encoding };
  mediaType(encoding: Encoding): string;
}

export const defaultCodec: MessageCodec = {
  encode: (message, encoding) => encodeMessage(message, encoding),
  decode: (input, limits) => decodeMessage(input, limits ? { limits } : undefined),
  mediaType: (encoding) => MEDIA_TYPE[encoding],
};
