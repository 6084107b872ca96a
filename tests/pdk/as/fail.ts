// fail: always fails, with the error "something went wrong: " + input, set
// through the kernel's error_set, and returns 1.
import { Host } from "@extism/as-pdk";
import { setError } from "./lib/support";

export function fail(): i32 {
  setError("something went wrong: " + Host.inputString());
  return 1;
}
