/**
 * The tables as kysely sees them (snake_case, as stored). Times are milliseconds since the Unix
 * epoch in a 64-bit integer column on both backends; JSON values are stored as canonical JSON
 * text so both backends hold byte-identical rows. Every table but `verdicts`' surrogate id is
 * keyed first by `part`, the owner ("carrier:acme", "platform", "enterprise:initech").
 */

export interface InventoryTable {
  part: string;
  imei: string;
  meid: string | null;
  esn: string | null;
  model: string;
  kid: string;
  attestation_key: string | null;
  attestation_thumbprint: string | null;
  contract_end: string | null;
  user_group: string | null;
  enterprise: string | null;
  status: string;
  created_at: number;
  updated_at: number;
}

export interface DevicesTable {
  part: string;
  imei: string;
  state: string;
  attestation_thumbprint: string | null;
  dm_credentials_ref: string | null;
  profile: string | null;
  verdict_id: string | null;
  version: number;
  created_at: number;
  updated_at: number;
}

export interface NoncesTable {
  part: string;
  nonce: string;
  subject: string | null;
  issued_at: number;
  expires_at: number;
  consumed_at: number | null;
}

export interface AccessTable {
  part: string;
  imei: string;
  access: string;
  updated_at: number;
}

export interface VerdictsTable {
  id: string;
  part: string;
  nonce: string;
  imei: string;
  verdict: string;
  reasons: string;
  evidence_hash: string;
  signed: string | null;
  created_at: number;
}

export interface AuditLogTable {
  part: string;
  seq: number;
  ts: number;
  actor: string;
  action: string;
  subject: string | null;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  part: string;
  seq: number;
  hash: string;
  updated_at: number;
}

export interface KvTable {
  part: string;
  ns: string;
  key: string;
  value: string;
  version: number;
  updated_at: number;
}

export interface EnrolmentTable {
  part: string;
  imei: string;
  user_name: string | null;
  user_group: string | null;
  created_at: number;
  updated_at: number;
}

export interface TokensTable {
  part: string;
  id: string;
  hash: string;
  holders: string;
  scopes: string;
  label: string | null;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
}

export interface Database {
  inventory: InventoryTable;
  devices: DevicesTable;
  nonces: NoncesTable;
  access: AccessTable;
  verdicts: VerdictsTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
  kv: KvTable;
  enrolment: EnrolmentTable;
  tokens: TokensTable;
}
