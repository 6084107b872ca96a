// log: logs the input once at each of the five levels, then outputs "logged".
import { Host, LogLevel } from "@extism/as-pdk";
import { logTrace, outputUtf8 } from "./lib/support";

export function log(): i32 {
  const msg = Host.inputString();
  logTrace(msg);
  Host.log(LogLevel.Debug, msg);
  Host.log(LogLevel.Info, msg);
  Host.log(LogLevel.Warn, msg);
  Host.log(LogLevel.Error, msg);
  outputUtf8("logged");
  return 0;
}
