/** OMA DM session engines (OMA-TS-DM_Protocol-V1_2 §2): transport-neutral client and server. */
export {
  type ClientSessionResult,
  DEVINFO_NODES,
  DmClient,
  type DmClientHooks,
  type DmClientOptions,
  type SessionTrigger,
} from "./client.js";
export type { NonceUpdate } from "./client-auth.js";
export { defaultCodec, type MessageCodec } from "./codec-port.js";
export type { ExecutorHooks, TreeCommand } from "./executor.js";
export type { EngineReply } from "./reply.js";
export { DmServer, type DmServerOptions, type HandleContext } from "./server.js";
export type {
  ClientAlert,
  ClientQuery,
  DmServerApp,
  ServerClientRecord,
  ServerSessionView,
  SessionStart,
  StoredSecret,
} from "./server-app.js";
export type { DmRequest, DmResponse, DmTransport } from "./transport.js";
export type {
  Awaitable,
  CommandResponse,
  OutCommand,
  OutContainer,
  SessionOutcome,
} from "./types.js";
export type { UiAnswer, UiRequest } from "./ui-alerts.js";
