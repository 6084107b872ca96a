// Shared helpers for warden's AssemblyScript test plugins.
//
// @extism/as-pdk 1.0.0 (the only release on npm) wraps input, output, config,
// vars and four log levels, but it has no wrapper for errors or HTTP, and it
// declares neither log_trace nor http_status_code. The missing kernel imports
// are declared here against the same "extism:host/env" module; everything
// else goes through the PDK.
import { Host, Memory } from "@extism/as-pdk";
import { error_set, http_request, length } from "@extism/as-pdk/lib/env";

@external("extism:host/env", "log_trace")
declare function log_trace(offs: u64): void;

@external("extism:host/env", "http_status_code")
declare function http_status_code(): i32;

/** Logs `s` at trace level (the PDK's LogLevel enum has no Trace). */
export function logTrace(s: string): void {
  const mem = Memory.allocateString(s);
  log_trace(mem.offset);
}

/** Sets the call's error message (the host reports the call as failed). */
export function setError(message: string): void {
  const mem = Memory.allocateString(message);
  error_set(mem.offset);
}

/** Writes the UTF-8 bytes of `s` as the output (exact byte length). */
export function outputUtf8(s: string): void {
  Host.output(Uint8Array.wrap(String.UTF8.encode(s)));
}

/** Escapes `s` for use inside a JSON string literal. */
export function jsonEscape(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) out += "\\\"";
    else if (c == 0x5c) out += "\\\\";
    else if (c == 0x0a) out += "\\n";
    else if (c == 0x0d) out += "\\r";
    else if (c == 0x09) out += "\\t";
    else if (c < 0x20) {
      const hex = c.toString(16);
      out += "\\u" + "0000".substring(hex.length) + hex;
    } else out += String.fromCharCode(c);
  }
  return out;
}

export class HttpResponse {
  constructor(public status: i32, public body: Uint8Array) {}
}

/**
 * Sends a request through the kernel's http_request. The request is the JSON
 * object {"url","method"} the ABI defines; a zero body handle means "no body"
 * and a zero response handle means an empty response body.
 */
export function httpRequest(url: string, method: string = "GET"): HttpResponse {
  const req = '{"url":"' + jsonEscape(url) + '","method":"' + jsonEscape(method) + '"}';
  const reqMem = Memory.allocateString(req);
  const res = http_request(reqMem.offset, 0);
  const status = http_status_code();
  let body = new Uint8Array(0);
  if (res != 0) {
    const mem = new Memory(res, length(res));
    body = mem.toUint8Array();
    mem.free();
  }
  return new HttpResponse(status, body);
}

/**
 * The abort handler the plugins are built with (asc --use abort=...): report
 * the AssemblyScript abort as the call's error, then trap.
 */
export function pluginAbort(
  message: string | null,
  fileName: string | null,
  lineNumber: u32,
  columnNumber: u32
): void {
  let text = "abort: " + (message === null ? "(no message)" : message);
  if (fileName !== null) {
    text += " at " + fileName + ":" + lineNumber.toString() + ":" + columnNumber.toString();
  }
  setError(text);
  unreachable();
}
