/**
 * What the MDAS provisions per user group (ENTERPRISE_MO.md): apps to install, access rights,
 * settings. Names are DM node names (OMA-TS-DM_TND §7: no `/`), so letters and digits only.
 */
export interface GroupContent {
  apps: readonly string[];
  rights: Readonly<Record<string, boolean>>;
  settings: Readonly<Record<string, string>>;
}

/** The content one device receives, as its DM tree (and `device status`) holds it. */
export interface EnterpriseContent {
  enterprise: string;
  access: "full";
  user: string | null;
  userGroup: string;
  apps: string[];
  rights: Record<string, boolean>;
  settings: Record<string, string>;
}

export const NODE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The groups of issue 5: executive, technology, worker. An enterprise may define its own. */
export const DEFAULT_GROUPS: Readonly<Record<string, GroupContent>> = {
  executive: {
    apps: ["mail", "calendar", "crm", "board-portal"],
    rights: { Vpn: true, Intranet: true, Finance: true, AdminConsole: false, Roaming: true },
    settings: { PasscodeMinLength: "8", WifiProfile: "corp-exec", DataCapMb: "unlimited" },
  },
  technology: {
    apps: ["mail", "calendar", "ticketing", "ssh-client"],
    rights: { Vpn: true, Intranet: true, Finance: false, AdminConsole: true, Roaming: false },
    settings: { PasscodeMinLength: "8", WifiProfile: "corp-eng", DataCapMb: "20000" },
  },
  worker: {
    apps: ["mail", "timesheet"],
    rights: { Vpn: false, Intranet: true, Finance: false, AdminConsole: false, Roaming: false },
    settings: { PasscodeMinLength: "6", WifiProfile: "corp-floor", DataCapMb: "2000" },
  },
};

export function checkGroups(groups: Readonly<Record<string, GroupContent>>): void {
  for (const [name, g] of Object.entries(groups)) {
    const names = [name, ...g.apps, ...Object.keys(g.rights), ...Object.keys(g.settings)];
    const bad = names.find((n) => !NODE_NAME.test(n));
    if (bad !== undefined)
      throw new TypeError(`group ${name}: ${JSON.stringify(bad)} is not a DM node name`);
  }
}

export function contentFor(
  enterpriseId: string,
  group: GroupContent,
  device: { user: string | null; userGroup: string },
): EnterpriseContent {
  return {
    enterprise: enterpriseId,
    access: "full",
    user: device.user,
    userGroup: device.userGroup,
    apps: [...group.apps],
    rights: { ...group.rights },
    settings: { ...group.settings },
  };
}
