/**
 * User-interaction alerts on the client (OMA-TS-DM_Protocol §2.5): 1100 display, 1101 confirm
 * (200 yes / 304 no), 1102 text input, 1103 single and 1104 multiple choice (the chosen item
 * numbers in Status Items), 214 when the user cancels. The first Item holds URL-encoded options
 * (§2.5.3: MINDT, MAXDT, DR default response, …); the second the text; the rest the choices.
 */
import type { Alert, Item } from "../model/message.js";
import { AlertCode, StatusCode } from "../status.js";

export interface UiRequest {
  readonly code: number;
  /** Parsed options of the first Item; unknown ones are kept and may be ignored (§2.5.3). */
  readonly options: Readonly<Record<string, string>>;
  readonly text: string;
  /** 1103/1104 choices, numbered from 1 in this order. */
  readonly choices: readonly string[];
}

export interface UiAnswer {
  /** The user cancelled (214); processing of the message stops (§2.5.2). */
  readonly cancelled?: boolean;
  /** 1101: yes (200) or no (304). */
  readonly accepted?: boolean;
  /** 1102: the text typed. */
  readonly input?: string;
  /** 1103/1104: chosen item numbers, from 1. */
  readonly selected?: readonly number[];
}

export function isUiAlert(code: number): boolean {
  return code >= AlertCode.DISPLAY && code <= AlertCode.MULTIPLE_CHOICE;
}

function text(item: Item | undefined): string {
  const d = item?.data;
  if (d === undefined) return "";
  return typeof d === "string" ? d : Buffer.from(d).toString("utf8");
}

export function parseUiAlert(alert: Alert): UiRequest {
  const options: Record<string, string> = {};
  const raw = text(alert.items[0]).trim();
  if (raw) {
    for (const [k, v] of new URLSearchParams(raw)) options[k.toUpperCase()] = v;
  }
  return {
    code: Number(alert.data),
    options,
    text: text(alert.items[1]),
    choices: alert.items.slice(2).map(text),
  };
}

/** What a device without a person answers: the DR default response, else no / cancelled. */
export function defaultUiAnswer(req: UiRequest): UiAnswer {
  const dr = req.options.DR;
  switch (req.code) {
    case AlertCode.DISPLAY:
      return {};
    case AlertCode.CONFIRM_OR_REJECT:
      return { accepted: dr === "1" };
    case AlertCode.TEXT_INPUT:
      return dr === undefined ? { cancelled: true } : { input: dr };
    default: {
      const picks = (dr ?? "")
        .split("-")
        .map(Number)
        .filter((n) => Number.isInteger(n) && n >= 1 && n <= req.choices.length);
      return picks.length === 0 ? { cancelled: true } : { selected: picks };
    }
  }
}

export interface UiStatus {
  readonly code: number;
  readonly items: readonly Item[];
}

export function uiStatus(req: UiRequest, answer: UiAnswer): UiStatus {
  if (answer.cancelled) return { code: StatusCode.OPERATION_CANCELLED, items: [] };
  switch (req.code) {
    case AlertCode.DISPLAY:
      return { code: StatusCode.OK, items: [] };
    case AlertCode.CONFIRM_OR_REJECT:
      return { code: answer.accepted ? StatusCode.OK : StatusCode.NOT_MODIFIED, items: [] };
    case AlertCode.TEXT_INPUT:
      return { code: StatusCode.OK, items: [{ data: answer.input ?? "" }] };
    default: {
      const picks =
        req.code === AlertCode.SINGLE_CHOICE
          ? (answer.selected ?? []).slice(0, 1)
          : (answer.selected ?? []);
      return { code: StatusCode.OK, items: picks.map((n) => ({ data: String(n) })) };
    }
  }
}
