/**
 * Shapes shared by the client and server engines: commands an application asks to send (the
 * engine numbers them, OMA-TS-DM_RepPro §6.5: CmdID unique within a message) and what comes
 * back for each.
 */
import type {
  Alert,
  Container,
  Exec,
  Get,
  Item,
  ItemCommand,
  Results,
  Status,
} from "../model/message.js";

export type Awaitable<T> = T | Promise<T>;

/** Atomic or Sequence to send: its nested commands are numbered too. */
export interface OutContainer extends Omit<Container, "cmdId" | "commands"> {
  readonly commands: readonly OutCommand[];
}

/** A command to send, before the engine gives it a CmdID. */
export type OutCommand =
  | Omit<ItemCommand, "cmdId">
  | Omit<Get, "cmdId">
  | Omit<Exec, "cmdId">
  | Omit<Alert, "cmdId">
  | OutContainer;

/** What the peer answered to one sent command (nested ones of Atomic/Sequence included). */
export interface CommandResponse {
  readonly command: OutCommand;
  /** The final status code; 213 for chunks is consumed by the engine. */
  readonly code: number;
  readonly status?: Status;
  /** Results for a Get, large objects reassembled. */
  readonly results: readonly Results[];
  /** Items of the Status (UI alert answers: the user's text or choices). */
  readonly items: readonly Item[];
}

/** How the session ended, for both engines. */
export type SessionOutcome =
  | "completed"
  | "aborted-by-peer"
  | "aborted"
  | "auth-failed"
  | "expired"
  | "error";
