/** The client engine's view of a transport binding (HTTP in ../http; anything in tests). */
export interface DmRequest {
  /** Where to send: the account's server address, or the last RespURI. */
  readonly url: string;
  readonly body: Uint8Array;
  readonly mediaType: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface DmResponse {
  readonly body: Uint8Array;
  readonly mediaType: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
}

export type DmTransport = (request: DmRequest) => Promise<DmResponse>;
