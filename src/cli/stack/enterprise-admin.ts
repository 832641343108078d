/**
 * An enterprise MDAS's admin API as the CLI uses it (src/enterprise/README.md): one device's
 * enrolment added or changed, removed, or read. Every call carries the enterprise's admin bearer
 * token from the stack's credentials.json.
 */
import { HttpRefusal, requestJson } from "./http.js";

export interface Enrolment {
  imei: string;
  user: string | null;
  userGroup: string | null;
}

export class EnterpriseAdmin {
  readonly id: string;
  readonly url: string;
  readonly #token: string;
  readonly #what: string;

  constructor(id: string, url: string, token: string) {
    this.id = id;
    this.url = url.replace(/\/+$/, "");
    this.#token = token;
    this.#what = `enterprise ${id}`;
  }

  enroll(
    imei: string,
    entry: { userGroup: string | null; user: string | null },
  ): Promise<Enrolment> {
    return requestJson(this.#what, `${this.url}/enrolment/${imei}`, {
      method: "PUT",
      body: entry,
      token: this.#token,
    });
  }

  unenroll(imei: string): Promise<{ imei: string; removed: true }> {
    return requestJson(this.#what, `${this.url}/enrolment/${imei}`, {
      method: "DELETE",
      token: this.#token,
    });
  }

  /** The device's enrolment, state and access; null when it is not enrolled. */
  async lookup(imei: string): Promise<Record<string, unknown> | null> {
    try {
      return await requestJson(this.#what, `${this.url}/enrolment/${imei}`, {
        token: this.#token,
      });
    } catch (err) {
      if (err instanceof HttpRefusal && err.code === "DEVICE_NOT_FOUND") return null;
      throw err;
    }
  }
}
