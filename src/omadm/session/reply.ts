import type { Encoding, SyncMLMessage } from "../model/message.js";

/** One encoded message an engine hands to its transport. */
export interface EngineReply {
  readonly message: SyncMLMessage;
  readonly body: Uint8Array;
  readonly encoding: Encoding;
  readonly mediaType: string;
  /** Transport headers to send with the body (x-syncml-hmac). */
  readonly headers: Readonly<Record<string, string>>;
  /** Nothing more will be exchanged in this session. */
  readonly ended: boolean;
}
