#!/usr/bin/env python3
"""Writes a C Extism plugin of about 2 MB of Wasm code (for plugin-creation benchmarks): many
distinct functions reachable through a table, plus `echo` and `dispatch` exports."""
import sys

count = int(sys.argv[2]) if len(sys.argv) > 2 else 2750
out = ['#include "extism.h"', "typedef int (*fn)(int);"]
for i in range(count):
    body = [f"int f{i}(int x) {{", "  int a = x, b = x ^ %d;" % i, "  switch ((x + %d) & 31) {" % i]
    for c in range(32):
        body.append(f"    case {c}: a = a * {c * 7 + i % 13 + 3} + b; b ^= a >> {c % 7 + 1}; break;")
    body += ["  }", "  return a + b;", "}"]
    out += body
out.append("static fn table[] = {" + ",".join(f"f{i}" for i in range(count)) + "};")
out.append("EXPORT(dispatch) int32_t dispatch(void) { return table[extism_input_length() %% %d](1) & 0; }" % count)
out.append("EXPORT(echo) int32_t echo(void) { extism_output_set(extism_input_offset(), extism_input_length()); return 0; }")
open(sys.argv[1], "w").write("\n".join(out) + "\n")
