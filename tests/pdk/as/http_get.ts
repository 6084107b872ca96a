// http_get: GETs the URL given as input and outputs "STATUS\nBODY".
// A refused request fails the call in the host; the plugin never sees it.
import { Host } from "@extism/as-pdk";
import { httpRequest } from "./lib/support";

export function http_get(): i32 {
  const res = httpRequest(Host.inputString(), "GET");
  const head = Uint8Array.wrap(String.UTF8.encode(res.status.toString() + "\n"));
  const out = new Uint8Array(head.length + res.body.length);
  out.set(head, 0);
  out.set(res.body, head.length);
  Host.output(out);
  return 0;
}
