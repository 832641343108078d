/**
 * Web Crypto types by name. The project compiles without the DOM lib, so the globals
 * `CryptoKey`, `CryptoKeyPair`… are not declared; node:crypto's `webcrypto` namespace has them.
 */
import type { webcrypto } from "node:crypto";

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;
export type EcKeyGenParams = webcrypto.EcKeyGenParams;
export type EcKeyImportParams = webcrypto.EcKeyImportParams;
export type EcdsaParams = webcrypto.EcdsaParams;
export type JsonWebKey = webcrypto.JsonWebKey;
