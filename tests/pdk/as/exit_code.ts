// exit_code: outputs "partial" and returns 3 without setting an error. The
// reference runtime fails such a call ("Returned non-zero exit code: 3");
// the Extism JS SDK ignores the return value (a known deviation).
import { outputUtf8 } from "./lib/support";

export function exit_code(): i32 {
  outputUtf8("partial");
  return 3;
}
