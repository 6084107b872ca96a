#!/usr/bin/env python3
"""warden serve end to end: starts it on 127.0.0.1 (a free port), calls it over HTTP, checks
tenant isolation, each outcome's status code and JSON error, the body cap, /metrics (with
promtool), /healthz, the audit log, and a SIGTERM that lets the call in flight finish.

Then, with --state sqlite:FILE, the "warden:kv" state of tests/testdata/host_kv.wat: per tenant,
and still there after a restart.

usage: serve_test.py WARDEN PLUGINS_DIR WORK_DIR TEST_DATA_DIR"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request

warden, plugins, work, testdata = (os.path.abspath(a) for a in sys.argv[1:5])
shutil.rmtree(work, ignore_errors=True)
os.makedirs(os.path.join(work, "plugins"))
for name in ("count_vowels", "hostile", "errors", "http_fetcher"):
    shutil.copy(os.path.join(plugins, name + ".wasm"), os.path.join(work, "plugins"))
with open(os.path.join(work, "policy.yaml"), "w") as f:
    f.write("default_tier: customer\ntiers:\n  customer:\n"
            "    capabilities: [config_read, vars, log_emit]\n"
            "    resource_limits:\n      timeout_ms: 400\n      memory: 16MiB\n")
audit = os.path.join(work, "audit.jsonl")
failures = []


def check(condition, what):
    if not condition:
        failures.append(what)
        print("FAIL:", what)


def start(args, cwd):
    """Starts warden serve; returns (process, base URL, startup lines, the rest of stderr)."""
    proc = subprocess.Popen([warden, "serve", "--listen", "127.0.0.1:0"] + args, cwd=cwd,
                            stderr=subprocess.PIPE, text=True)
    lines, found = [], None
    deadline = time.time() + 30
    while time.time() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
        if m:
            found = int(m.group(1))
            break
    if found is None:
        proc.kill()
        sys.exit("serve did not start: " + "".join(lines))
    rest = []
    threading.Thread(target=lambda: rest.extend(proc.stderr), daemon=True).start()
    return proc, f"http://127.0.0.1:{found}", lines, rest


server, base, stderr_lines, rest = start(
    ["--policy", "policy.yaml", "--plugins", "plugins", "--audit-log", audit, "--max-body",
     "65536"], work)
check(any('plugin "http_fetcher" refused' in l and "network_outbound_allowlist" in l
          for l in stderr_lines), "the refused plugin is reported")


def request(method, path, body=b"", tenant=None, base_url=None):
    req = urllib.request.Request((base_url or base) + path, data=body if method == "POST" else None,
                                 method=method)
    if tenant is not None:
        req.add_header("X-Tenant-Id", tenant)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def call(plugin, function, body=b"", tenant="t"):
    return request("POST", f"/v1/plugins/{plugin}/call/{function}", body, tenant)


# Tenant isolation: count_vowels keeps a running total in a var, per tenant.
for i in range(3):
    status, out = call("count_vowels", "count_vowels", b"aaa", "alice")
check(status == 200 and json.loads(out)["total"] == 9, f"alice's third call: {status} {out!r}")
status, out = call("count_vowels", "count_vowels", b"aaa", "bob")
check(status == 200 and json.loads(out)["total"] == 3, f"bob's first call: {status} {out!r}")


def error_of(status_body, status, kind):
    got_status, body = status_body
    try:
        got = json.loads(body)
    except ValueError:
        got = {}
    check(got_status == status and got.get("error") == kind and got.get("message"),
          f"expected {status} {kind}, got {got_status} {body!r}")


error_of(call("count_vowels", "count_vowels", b"x", tenant=None), 400, "bad_request")
error_of(call("nope", "f"), 404, "unknown_plugin")
error_of(call("count_vowels", "no_such_function"), 400, "bad_request")
error_of(call("hostile", "memory_bomb"), 507, "oom")
error_of(call("errors", "trap"), 500, "trap")
error_of(call("errors", "fail", b"boom"), 422, "plugin_error")
error_of(call("count_vowels", "count_vowels", b"x" * 65537), 413, "bad_request")
error_of(request("GET", "/v1/plugins/count_vowels/call/count_vowels"), 404, "not_found")
# A POST without a length: httplib's 400, as a JSON error too.
raw = subprocess.run(["curl", "-s", "-w", " %{http_code}", "-X", "POST", "-H", "X-Tenant-Id: t",
                      base + "/v1/plugins/count_vowels/call/count_vowels"],
                     capture_output=True, text=True).stdout
check(raw.endswith(" 400") and '"error":"bad_request"' in raw, f"POST without a length: {raw!r}")

# A looping plugin fails only its own call: other tenants' calls go on meanwhile.
results = {}
loop = threading.Thread(target=lambda: results.update(loop=call("hostile", "infinite_loop")))
loop.start()
time.sleep(0.05)
status, out = call("count_vowels", "count_vowels", b"ee", "carol")
check(status == 200 and json.loads(out)["count"] == 2, f"carol during the loop: {status}")
loop.join()
error_of(results["loop"], 504, "timeout")

status, body = request("GET", "/healthz")
health = json.loads(body)
check(status == 200 and sorted(p["id"] for p in health["plugins"]) ==
      ["count_vowels", "errors", "hostile"], f"healthz: {body!r}")

status, body = request("GET", "/metrics")
text = body.decode()
check('extism_plugin_calls_total{function="count_vowels",plugin="count_vowels",status="ok"} 5'
      in text, "calls_total of count_vowels")
check('extism_plugin_timeout_total{plugin="hostile"} 1' in text, "timeout_total")
lint = subprocess.run(["promtool", "check", "metrics"], input=body, capture_output=True)
check(lint.returncode == 3 and lint.stdout.decode() + lint.stderr.decode() ==
      "extism_plugin_call_duration_ms metric names should not contain abbreviated units\n",
      f"promtool: {lint.returncode} {lint.stdout!r} {lint.stderr!r}")

# SIGTERM while a call runs: the call finishes (its 504 arrives), then the server exits 0.
late = threading.Thread(target=lambda: results.update(late=call("hostile", "infinite_loop")))
late.start()
time.sleep(0.1)
server.send_signal(signal.SIGTERM)
late.join()
error_of(results["late"], 504, "timeout")
try:
    code = server.wait(timeout=30)
except subprocess.TimeoutExpired:
    server.kill()
    code = "hung"
time.sleep(0.1)
log = "".join(rest)
check(code == 0, f"exit status after SIGTERM: {code}")
check("stopping (1 calls in flight)" in log and "stopped" in log, f"stop messages: {log!r}")

records = [json.loads(l) for l in open(audit)]
invocations = [r for r in records if r["event"] == "invocation"]
check(len(invocations) == 11, f"{len(invocations)} invocation records")
check(any(r["tenant"] == "alice" and r["outcome"] == "ok" for r in invocations), "alice's record")

# --state: each tenant's "warden:kv" namespace, kept across a restart; with SQLite, and with a
# redis-server this test starts on 127.0.0.1 (a free port) and stops.
def state_phase(name, state):
    state_dir = os.path.join(work, name)
    os.makedirs(os.path.join(state_dir, "plugins"))
    shutil.copy(os.path.join(testdata, "host_kv.wasm"), os.path.join(state_dir, "plugins"))
    with open(os.path.join(state_dir, "policy.yaml"), "w") as f:
        f.write("default_tier: t\ntiers:\n  t:\n"
                "    capabilities: [kv, kv_shared_read, kv_shared_write]\n")
    args = ["--policy", "policy.yaml", "--plugins", "plugins", "--state", state]

    def kv_call(url, function, tenant, body=b""):
        return request("POST", f"/v1/plugins/host_kv/call/{function}", body, tenant, url)

    proc, url, _, _ = start(args, state_dir)
    check(kv_call(url, "put", "alice", b"alice-state") == (200, b"0"), f"{name}: kv put")
    check(kv_call(url, "get", "bob") == (200, b""), f"{name}: bob sees nothing of alice's")
    check(kv_call(url, "sput", "alice", b"shared") == (200, b"0"), f"{name}: kv shared put")
    proc.send_signal(signal.SIGTERM)
    check(proc.wait(timeout=30) == 0, f"{name}: the server stops")
    proc, url, _, _ = start(args, state_dir)
    check(kv_call(url, "get", "alice") == (200, b"alice-state"), f"{name}: alice's state after a restart")
    check(kv_call(url, "sget", "bob") == (200, b"shared"), f"{name}: the shared namespace after a restart")
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=30)


state_phase("state-sqlite", "sqlite:state.db")
import socket
with socket.socket() as probe:
    probe.bind(("127.0.0.1", 0))
    redis_port = probe.getsockname()[1]
redis_dir = os.path.join(work, "redis")
os.makedirs(redis_dir)
redis = subprocess.Popen(["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1",
                          "--save", "", "--appendonly", "no", "--dir", redis_dir, "--logfile",
                          os.path.join(redis_dir, "redis.log")])
try:
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", redis_port), timeout=1).close()
            break
        except OSError:
            time.sleep(0.02)
    state_phase("state-redis", f"redis://127.0.0.1:{redis_port}")
finally:
    redis.terminate()
    redis.wait(timeout=30)

# The admin API: its own listener and bearer token; uploads, canaries, promote, rollback.
admin_dir = os.path.join(work, "admin")
os.makedirs(os.path.join(admin_dir, "plugins"))
shutil.copy(os.path.join(plugins, "count_vowels.wasm"), os.path.join(admin_dir, "plugins"))
shutil.copy(os.path.join(work, "policy.yaml"), admin_dir)
token = "s3cret-admin-token-0123456789"
with open(os.path.join(admin_dir, "token"), "w") as f:
    f.write(token + "\n")
os.chmod(os.path.join(admin_dir, "token"), 0o644)
admin_args = ["--policy", "policy.yaml", "--plugins", "plugins", "--admin-listen", "127.0.0.1:0",
              "--admin-token-file", "token"]
refused = subprocess.run([warden, "serve", "--listen", "127.0.0.1:0"] + admin_args,
                         cwd=admin_dir, capture_output=True, text=True, timeout=30)
check(refused.returncode == 1 and "readable by others" in refused.stderr,
      f"a readable token file is refused: {refused.returncode} {refused.stderr!r}")
os.chmod(os.path.join(admin_dir, "token"), 0o600)
proc, url, lines, _ = start(admin_args, admin_dir)
admin_url = re.search(r"admin API on (http://127\.0\.0\.1:\d+)", "".join(lines)).group(1)


def admin(method, path, body=b"", auth=token, headers=()):
    req = urllib.request.Request(admin_url + path, data=body if method != "GET" else None,
                                 method=method)
    if auth:
        req.add_header("Authorization", "Bearer " + auth)
    for k, v in headers:
        req.add_header(k, v)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


check(admin("GET", "/v1/plugins", auth=None)[0] == 401, "the admin API without a token")
check(admin("GET", "/v1/plugins", auth="wrong-token-wrong-token")[0] == 401, "a wrong token")
status, listing = admin("GET", "/v1/plugins")
check(status == 200 and listing[0]["id"] == "count_vowels" and "canary" not in listing[0],
      f"list: {listing}")
wasm = open(os.path.join(plugins, "count_vowels.wasm"), "rb").read()
check(admin("PUT", "/v1/plugins/count_vowels/versions/2?canary=1", wasm) == (200, {"result": "canary"}),
      "upload a canary")
status, listing = admin("GET", "/v1/plugins")
check(listing[0].get("canary", {}).get("version") == "2", f"the canary is listed: {listing}")
call_status, _ = request("POST", "/v1/plugins/count_vowels/call/count_vowels", b"aa", "t1", url)
status, listing = admin("GET", "/v1/plugins")
check(call_status == 200 and listing[0]["canary"]["tally"]["calls"] == 1,
      f"share 1: the call ran on the canary: {listing}")
check(admin("POST", "/v1/plugins/count_vowels/rollback")[0] == 200, "rollback")
status, listing = admin("GET", "/v1/plugins")
check(listing[0]["active"] != "2" and "canary" not in listing[0], f"rolled back: {listing}")
check(admin("PUT", "/v1/plugins/count_vowels/versions/3?canary=0.5", wasm)[0] == 200, "canary 3")
check(admin("POST", "/v1/plugins/count_vowels/canary?share=0.25")[0] == 200, "set the share")
check(admin("GET", "/v1/plugins")[1][0]["canary"]["share"] == 0.25, "the share is 0.25")
check(admin("POST", "/v1/plugins/count_vowels/promote")[0] == 200, "promote")
check(admin("GET", "/v1/plugins")[1][0]["active"] == "3", "version 3 is active")
status, body = admin("PUT", "/v1/plugins/count_vowels/versions/4", b"not wasm")
check(status == 403 and body["error"] == "admission" and "magic header" in body["message"],
      f"garbage upload: {status} {body}")
status, body = admin("POST", "/v1/plugins/count_vowels/rollback")
check(status == 404 and body["error"] == "unknown_plugin", f"rollback without a canary: {body}")
status, body = admin("PUT", "/v1/plugins/count_vowels/versions/5", wasm,
                     headers=[("X-Warden-Signature", "not base64!")])
check(status == 400 and body["error"] == "bad_request", f"a bad signature header: {body}")
proc.send_signal(signal.SIGTERM)
check(proc.wait(timeout=30) == 0, "the admin server stops")

# --watch-ms: a file added while serving is a new plugin; a replaced one a new version, as a
# canary.
watch_dir = os.path.join(work, "watch")
os.makedirs(os.path.join(watch_dir, "plugins"))
shutil.copy(os.path.join(plugins, "count_vowels.wasm"), os.path.join(watch_dir, "plugins"))
shutil.copy(os.path.join(work, "policy.yaml"), watch_dir)
proc, url, _, watch_log = start(["--policy", "policy.yaml", "--plugins", "plugins", "--watch-ms",
                                 "100", "--canary-share", "1", "--canary-window", "3600"],
                                watch_dir)


def wait_for(predicate, what):
    deadline = time.time() + 10
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    check(False, what)
    return False


shutil.copy(os.path.join(plugins, "errors.wasm"), os.path.join(watch_dir, "plugins", "new.wasm"))
wait_for(lambda: "new" in [p["id"] for p in json.loads(request("GET", "/healthz", base_url=url)[1])["plugins"]],
         "an added file is served")
check(request("POST", "/v1/plugins/new/call/trap", b"", "w", url)[0] == 500, "the new plugin runs")
# The same module with a custom section appended: other bytes, another version.
with open(os.path.join(plugins, "count_vowels.wasm"), "rb") as f:
    replaced = f.read() + b"\x00\x04\x03new"
with open(os.path.join(watch_dir, "plugins", "count_vowels.tmp"), "wb") as f:
    f.write(replaced)
os.replace(os.path.join(watch_dir, "plugins", "count_vowels.tmp"),
           os.path.join(watch_dir, "plugins", "count_vowels.wasm"))
wait_for(lambda: 'plugin_rollout_events_total{action="canary",plugin_id="count_vowels"} 1'
         in request("GET", "/metrics", base_url=url)[1].decode(), "a replaced file is a canary")
status, out = request("POST", "/v1/plugins/count_vowels/call/count_vowels", b"aaa", "w", url)
check(status == 200 and json.loads(out)["count"] == 3, "the canary answers")
proc.send_signal(signal.SIGTERM)
check(proc.wait(timeout=30) == 0, "the watching server stops")
time.sleep(0.1)
check(any("new version, as a canary: count_vowels@" in l for l in watch_log), f"log: {watch_log}")

if failures:
    sys.exit(f"serve: {len(failures)} checks failed")
print("serve: all checks passed")
