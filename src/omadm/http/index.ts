export { exchange, type HttpExchange, type HttpReply } from "./exchange.js";
export { DmHttpError, type FetchTransportOptions, fetchTransport } from "./fetch-transport.js";
export { createDmHttpHandler, type DmHttpHandler, type DmHttpHandlerOptions } from "./handler.js";
