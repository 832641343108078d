#!/usr/bin/env node
// Entry point of the `dmguard` bin. process.exitCode rather than process.exit() so pending
// stdout writes are not cut short.
import { main } from "./program.js";

process.exitCode = await main(process.argv.slice(2));
