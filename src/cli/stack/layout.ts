/**
 * What a stack folder (`dmguard up --data DIR`) holds, by name. The other commands find
 * everything through `--stack DIR`, so these names are the contract between `up` and them.
 *
 *   stack.json        where the running stack is: base URL, parts, store URL, OEM CA id (0644)
 *   credentials.json  admin bearer tokens of the parts, in clear (0600: like an SSH key)
 *   oem-ca.json       the OEM CA and its private key (0600; device/oem-ca.ts writes it)
 *   dmguard.sqlite    the store (store/open.ts `sqliteUrlFor`)
 *   keystore/         the server TSZ: sealed keys and the master key file (0700)
 *   platform-keystore/ the platform's own TSZ (its custody of carriers' keys), apart (0700)
 */
export const STACK_FILE = "stack.json";
export const CREDENTIALS_FILE = "credentials.json";
export const KEYSTORE_DIR = "keystore";
/** The platform keeps carriers' keys in custody in a keystore of its own (src/platform/README.md). */
export const PLATFORM_KEYSTORE_DIR = "platform-keystore";

/** Where `up` keeps its data when `--data` is not given (CONTRACT.md). */
export const DEFAULT_DATA_DIR = ".dmguard";
export const DEFAULT_PORT = 8080;
/** Loopback by default: a development stack should not be reachable from the network. */
export const DEFAULT_HOST = "127.0.0.1";

/** The carriers `up` runs (CONTRACT.md `up`). */
export const STACK_CARRIERS = ["acme", "globex"] as const;
/** The enterprise MDAS `up` runs (CONTRACT.md `up`). */
export const STACK_ENTERPRISE = "initech";
/** How long the platform tokens `up` mints for its tenants live; renewed at a start after. */
export const TENANT_TOKEN_TTL_MS = 365 * 24 * 3600 * 1000;

/** The version of stack.json and credentials.json this code writes and reads. */
export const STACK_FORMAT = 1;
