/**
 * This part's door to @peculiar/x509: its dependency tsyringe needs the Reflect metadata
 * polyfill loaded first, and ES modules evaluate imports in order, so X.509 is imported from here.
 */
import "reflect-metadata";

export * from "@peculiar/x509";
