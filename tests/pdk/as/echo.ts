// echo: the output is exactly the input bytes.
import { Host } from "@extism/as-pdk";
// Not used directly: brings in the abort handler named by asc --use abort=...
import "./lib/support";

export function echo(): i32 {
  Host.output(Host.input());
  return 0;
}
