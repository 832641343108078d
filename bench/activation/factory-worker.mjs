// A factory line's thread (bench/activation/factory.ts). Worker threads do not inherit the tsx
// loader that `node --import tsx` gave the bench: register it here, then run the line.
import { register } from "tsx/esm/api";

register();
await import("./factory-line.ts");
