import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { oemIdOf } from "../evidence/oem-id.js";
import { DeviceError } from "./errors.js";
import type { CryptoKey, EcdsaParams, EcKeyGenParams } from "./webcrypto-types.js";
import {
  AuthorityKeyIdentifierExtension,
  BasicConstraintsExtension,
  KeyUsageFlags,
  KeyUsagesExtension,
  Pkcs10CertificateRequest,
  SubjectKeyIdentifierExtension,
  X509Certificate,
  X509CertificateGenerator,
} from "./x509.js";

/**
 * The OEM's certificate authority (DESIGN.md, Manufacture): it signs each device's attestation
 * key certificate, and its OTA release certificate is what every device ships in
 * `system/etc/security/otacerts.zip`. ECDSA P-256 / SHA-256 throughout, so the device
 * certificate's key signs ES256 evidence (RFC 7518 §3.4).
 */
export interface OemCa {
  readonly name: string;
  readonly certificate: X509Certificate;
  readonly certificatePem: string;
  readonly privateKey: CryptoKey;
  /** The OEM's OTA release certificate (PEM), issued by the CA; its key is not kept. */
  readonly otaCertificatePem: string;
  /**
   * RFC 9711 §4.2.3 random-based OEMID: SHA-256 over the CA's SubjectPublicKeyInfo, truncated to
   * 128 bits, base64url (the RFC allows a hash of a high-entropy input).
   */
  readonly oemId: string;
}

/** What `exportOemCa` writes and `importOemCa` reads: PEM text, the private key as PKCS#8. */
export interface OemCaFiles {
  name: string;
  certificatePem: string;
  privateKeyPem: string;
  otaCertificatePem: string;
}

export interface DeviceCertificateSubject {
  imei: string;
  model: string;
}

const EC: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
const SIGN: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$/;
const YEAR_MS = 365 * 24 * 3600 * 1000;
/** Where `saveOemCa` keeps the CA inside a stack folder; mode 0600, it holds the private key. */
export const OEM_CA_FILE = "oem-ca.json";

function years(n: number): Date {
  return new Date(Date.now() + n * YEAR_MS);
}

function dnValue(v: string): string {
  // RFC 4514 §2.4: escape the characters that would end or split an attribute value.
  return v.replace(/[,+"\\<>;=#]/g, (c) => `\\${c}`);
}

export { oemIdOf };

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await crypto.subtle.exportKey("pkcs8", key)).toString("base64");
  const lines = der.match(/.{1,64}/g) ?? [];
  return `-----BEGIN PRIVATE KEY-----\n${lines.join("\n")}\n-----END PRIVATE KEY-----\n`;
}

function pemBody(pem: string, label: string): Uint8Array {
  const m = new RegExp(`-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`).exec(
    pem,
  );
  if (!m) throw new DeviceError("CA_INVALID", `expected a PEM ${label}`);
  return new Uint8Array(Buffer.from(m[1]!.replace(/\s+/g, ""), "base64"));
}

/** Makes a new OEM CA (self-signed root) and its OTA release certificate. */
export async function createOemCa(opts: { name?: string } = {}): Promise<OemCa> {
  const name = opts.name ?? "DMGuard OEM";
  if (!SAFE_NAME.test(name)) {
    throw new DeviceError("CA_INVALID", "OEM name must be 1-64 letters, digits, spaces, . _ -");
  }
  const keys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const certificate = await X509CertificateGenerator.createSelfSigned({
    name: `CN=${dnValue(name)} Root CA, O=${dnValue(name)}`,
    keys,
    signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: years(30),
    extensions: [
      new BasicConstraintsExtension(true, 0, true),
      new KeyUsagesExtension(KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign, true),
      await SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // The OTA release key signs OS updates; the emulator only ships its certificate.
  const otaKeys = await crypto.subtle.generateKey(EC, true, ["sign", "verify"]);
  const ota = await X509CertificateGenerator.create({
    subject: `CN=${dnValue(name)} OTA Release Key, O=${dnValue(name)}`,
    issuer: certificate.subject,
    publicKey: otaKeys.publicKey,
    signingKey: keys.privateKey,
    signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: years(30),
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
    ],
  });
  return Object.freeze({
    name,
    certificate,
    certificatePem: certificate.toString("pem"),
    privateKey: keys.privateKey,
    otaCertificatePem: ota.toString("pem"),
    oemId: oemIdOf(certificate),
  });
}

/**
 * Issues the device certificate for the attestation key in `csrPem` (PKCS#10, RFC 2986). The
 * CSR's own signature proves the TSZ holds the private key; the key itself never leaves it.
 */
export async function issueDeviceCertificate(
  ca: OemCa,
  csrPem: string,
  subject: DeviceCertificateSubject,
): Promise<string> {
  let csr: Pkcs10CertificateRequest;
  try {
    csr = new Pkcs10CertificateRequest(csrPem);
  } catch {
    throw new DeviceError("CA_INVALID", "the attestation key request is not a PKCS#10 CSR");
  }
  if (!(await csr.verify())) {
    throw new DeviceError("CA_INVALID", "the attestation key request's signature does not verify");
  }
  // 2.5.4.5 is X.520 serialNumber (the IMEI); @peculiar/x509 only parses it by OID.
  const cert = await X509CertificateGenerator.create({
    subject: `CN=${dnValue(`${subject.model} ${subject.imei}`)}, O=${dnValue(ca.name)}, 2.5.4.5=${dnValue(subject.imei)}`,
    issuer: ca.certificate.subject,
    publicKey: csr.publicKey,
    signingKey: ca.privateKey,
    signingAlgorithm: SIGN,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: years(20),
    extensions: [
      new BasicConstraintsExtension(false, undefined, true),
      new KeyUsagesExtension(KeyUsageFlags.digitalSignature, true),
      await SubjectKeyIdentifierExtension.create(csr.publicKey),
      await AuthorityKeyIdentifierExtension.create(ca.certificate),
    ],
  });
  return cert.toString("pem");
}

/**
 * `true` when `deviceCertPem` was issued by the CA in `caCertPem` and is valid at `at`:
 * the check a server makes on the evidence's `x5c` (RFC 7515 §4.1.6) before trusting its key.
 */
export async function verifyDeviceCertificate(
  caCertPem: string,
  deviceCertPem: string,
  at: Date = new Date(),
): Promise<boolean> {
  try {
    const ca = new X509Certificate(caCertPem);
    const cert = new X509Certificate(deviceCertPem);
    if (cert.issuer !== ca.subject) return false;
    return await cert.verify({ publicKey: ca.publicKey, date: at });
  } catch {
    return false;
  }
}

export async function exportOemCa(ca: OemCa): Promise<OemCaFiles> {
  return {
    name: ca.name,
    certificatePem: ca.certificatePem,
    privateKeyPem: await pkcs8Pem(ca.privateKey),
    otaCertificatePem: ca.otaCertificatePem,
  };
}

export async function importOemCa(files: OemCaFiles): Promise<OemCa> {
  try {
    const certificate = new X509Certificate(files.certificatePem);
    const privateKey = await crypto.subtle.importKey(
      "pkcs8",
      pemBody(files.privateKeyPem, "PRIVATE KEY"),
      EC,
      true,
      ["sign"],
    );
    new X509Certificate(files.otaCertificatePem);
    return Object.freeze({
      name: files.name,
      certificate,
      certificatePem: certificate.toString("pem"),
      privateKey,
      otaCertificatePem: files.otaCertificatePem,
      oemId: oemIdOf(certificate),
    });
  } catch (err) {
    if (err instanceof DeviceError) throw err;
    throw new DeviceError("CA_INVALID", "the OEM CA files do not hold a P-256 CA and its key");
  }
}

/** Writes the CA to `dir/oem-ca.json` (mode 0600, atomically). */
export async function saveOemCa(dir: string, ca: OemCa): Promise<string> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, OEM_CA_FILE);
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(await exportOemCa(ca), null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
  return path;
}

export async function loadOemCa(dir: string): Promise<OemCa> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(join(dir, OEM_CA_FILE), "utf8"));
  } catch {
    throw new DeviceError("CA_INVALID", `no readable ${OEM_CA_FILE} in ${dir}`);
  }
  const f = parsed as Partial<OemCaFiles>;
  if (
    typeof f?.name !== "string" ||
    typeof f.certificatePem !== "string" ||
    typeof f.privateKeyPem !== "string" ||
    typeof f.otaCertificatePem !== "string"
  ) {
    throw new DeviceError("CA_INVALID", `${OEM_CA_FILE} lacks a field`);
  }
  return importOemCa(f as OemCaFiles);
}
