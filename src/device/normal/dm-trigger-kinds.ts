/**
 * What may start a DM session (dm-triggers.ts says what each sends), apart from the session code
 * so the CLI can check `--trigger` without loading the device.
 */
export const DM_TRIGGERS = ["hfa", "factory-reset", "new-network", "profile-change"] as const;
export type DmTrigger = (typeof DM_TRIGGERS)[number];

export function isDmTrigger(v: unknown): v is DmTrigger {
  return typeof v === "string" && (DM_TRIGGERS as readonly string[]).includes(v);
}
