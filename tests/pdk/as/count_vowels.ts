// count_vowels: counts the vowels of the input. The config key "vowels", when
// present and non-empty, replaces the default vowel set. A running total is
// kept in the plugin variable "total", so it grows across calls on one plugin.
// Output: {"count":N,"total":T,"vowels":"..."}
import { Config, Host, Var } from "@extism/as-pdk";
import { jsonEscape, outputUtf8 } from "./lib/support";

const DEFAULT_VOWELS = "aeiouAEIOU";

export function count_vowels(): i32 {
  const input = Host.inputString();
  const configured = Config.get("vowels");
  const vowels = configured === null ? DEFAULT_VOWELS : configured;

  let count: i64 = 0;
  for (let i = 0; i < input.length; i++) {
    if (vowels.includes(input.charAt(i))) count++;
  }

  let total: i64 = count;
  const previous = Var.getString("total");
  if (previous !== null) total += I64.parseInt(previous, 10);
  Var.set("total", Uint8Array.wrap(String.UTF8.encode(total.toString())));

  outputUtf8(
    '{"count":' + count.toString() +
    ',"total":' + total.toString() +
    ',"vowels":"' + jsonEscape(vowels) + '"}'
  );
  return 0;
}
