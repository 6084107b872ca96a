# CLI tests of warden sign / warden verify. Keys come from the openssl CLI at test time, and the
# openssl CLI is the independent party: it signs what warden verifies and verifies what warden
# signs. Each test works in its own directory. Included from tools/CMakeLists.txt (status_test, W,
# hello are defined there).
find_program(OPENSSL openssl REQUIRED)
set(sign_dir ${CMAKE_CURRENT_BINARY_DIR}/sign-tests)
set(ed_keys "openssl genpkey -algorithm ed25519 -out ed.pem && openssl pkey -in ed.pem -pubout -out ed.pub")
set(ec_keys "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ec.pem && openssl pkey -in ec.pem -pubout -out ec.pub")
set(other_keys "openssl genpkey -algorithm ed25519 -out other.pem && openssl pkey -in other.pem -pubout -out other.pub")

# sign_test(NAME STATUS REGEX SCRIPT): SCRIPT runs in a fresh directory holding plugin.wasm.
function(sign_test name status regex script)
  status_test(${name} ${status} "${regex}"
    "rm -rf ${sign_dir}/${name} && mkdir -p ${sign_dir}/${name} && cd ${sign_dir}/${name} && cp ${hello} plugin.wasm && { ${script}; }")
endfunction()

# Independent signers, verified by warden.
sign_test(verify-ed25519-from-openssl 0 "verified: ed25519 signature by key [0-9a-f]+ \\(ed.pub\\)"
  "${ed_keys} && openssl pkeyutl -sign -inkey ed.pem -rawin -in plugin.wasm -out plugin.sig && ${W} verify --key ed.pub --signature plugin.sig plugin.wasm")
set(cosign_sign "python3 ${CMAKE_CURRENT_SOURCE_DIR}/testdata/openssl_cosign_sign.py")
sign_test(verify-cosign-from-openssl 0 "verified: cosign signature by key"
  "${ec_keys} && ${cosign_sign} ec.pem plugin.wasm > plugin.sig && ${W} verify --key ec.pub --signature plugin.sig plugin.wasm")
# The high-S twin of a valid signature (s -> n - s), which openssl accepts, is refused: one
# signature, one encoding.
sign_test(verify-cosign-high-s 1 "error: plugin.wasm: the ECDSA signature is high-S"
  "${ec_keys} && ${cosign_sign} ec.pem plugin.wasm > low.sig && python3 -c 'import base64; d=base64.b64decode(open(\"low.sig\").read()); n=0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551; r=d[4:4+d[3]]; s=int.from_bytes(d[6+d[3]:],\"big\"); h=(n-s).to_bytes(33,\"big\").lstrip(bytes(1)); h=bytes(1)+h if h[0]&0x80 else h; body=bytes([2,len(r)])+r+bytes([2,len(h)])+h; open(\"plugin.sig\",\"w\").write(base64.b64encode(bytes([0x30,len(body)])+body).decode())' && base64 -d plugin.sig > high.der && openssl dgst -sha256 -verify ec.pub -signature high.der plugin.wasm > /dev/null && ${W} verify --key ec.pub --signature plugin.sig plugin.wasm")
# The key ID printed is SHA-256 of the key's DER SubjectPublicKeyInfo, as openssl computes it.
sign_test(verify-key-id-is-spki-sha256 0 "^ok\n$"
  "${ed_keys} && openssl pkeyutl -sign -inkey ed.pem -rawin -in plugin.wasm -out plugin.sig && id=$(openssl pkey -pubin -in ed.pub -outform DER | sha256sum | cut -d' ' -f1) && ${W} verify --key ed.pub --signature plugin.sig plugin.wasm | grep -q \"by key $id \" && echo ok")

# warden signs, openssl verifies.
sign_test(sign-ed25519-verified-by-openssl 0 "Signature Verified Successfully"
  "${ed_keys} && ${W} sign --key ed.pem plugin.wasm > plugin.sig 2>/dev/null && test $(wc -c < plugin.sig) -eq 64 && openssl pkeyutl -verify -pubin -inkey ed.pub -rawin -in plugin.wasm -sigfile plugin.sig")
sign_test(sign-cosign-verified-by-openssl 0 "Verified OK"
  "${ec_keys} && ${W} sign --key ec.pem -o plugin.sig plugin.wasm 2>/dev/null && base64 -d plugin.sig > plugin.der && openssl dgst -sha256 -verify ec.pub -signature plugin.der plugin.wasm")
sign_test(sign-reports-format-and-key 0 "^signed: cosign signature by key [0-9a-f]+ over plugin.wasm \\(sha256 [0-9a-f]+\\)\n$"
  "${ec_keys} && ${W} sign --key ec.pem plugin.wasm 2>&1 >/dev/null")

# DSSE: the statement is verified and shown; relabelling its capabilities breaks the signature.
sign_test(dsse-round-trip 0 "verified: dsse signature by key .*statement: name \"counter\", version \"1.2.0\", sha256 [0-9a-f]+\ncapabilities: \\[\"memory_only\", \"log_emit\"\\]"
  "${ec_keys} && ${W} sign --key ec.pem --name counter --version 1.2.0 --capabilities memory_only,log_emit -o plugin.dsse plugin.wasm 2>/dev/null && ${W} verify --key ec.pub --signature plugin.dsse plugin.wasm")
sign_test(dsse-relabelled-capabilities 1 "error: plugin.wasm: no DSSE signature verifies with .*the envelope was changed"
  "${ed_keys} && ${W} sign --key ed.pem --name counter --version 1 --capabilities memory_only -o plugin.dsse plugin.wasm 2>/dev/null && python3 -c 'import base64,json,sys; e=json.load(open(\"plugin.dsse\")); p=json.loads(base64.b64decode(e[\"payload\"])); p[\"capabilities\"].append(\"network_outbound_allowlist\"); e[\"payload\"]=base64.b64encode(json.dumps(p).encode()).decode(); json.dump(e,open(\"plugin.dsse\",\"w\"))' && ${W} verify --key ed.pub --signature plugin.dsse plugin.wasm")
sign_test(dsse-other-plugin 1 "error: plugin.wasm: the DSSE statement .* is for another plugin: it names sha256 [0-9a-f]+, the plugin.s is [0-9a-f]+"
  "${ed_keys} && ${W} sign --key ed.pem --name counter --version 1 -o plugin.dsse plugin.wasm 2>/dev/null && printf x >> plugin.wasm && ${W} verify --key ed.pub --signature plugin.dsse plugin.wasm")

# Refusals: exit 1 with the reason.
sign_test(verify-other-key 1 "error: plugin.wasm: .*does not verify"
  "${ed_keys} && ${other_keys} && openssl pkeyutl -sign -inkey other.pem -rawin -in plugin.wasm -out plugin.sig && ${W} verify --key ed.pub --signature plugin.sig plugin.wasm")
sign_test(verify-63-byte-signature 1 "signature is 63 bytes; an Ed25519 signature is 64"
  "${ed_keys} && openssl pkeyutl -sign -inkey ed.pem -rawin -in plugin.wasm -out full.sig && head -c 63 full.sig > plugin.sig && ${W} verify --key ed.pub --format ed25519 --signature plugin.sig plugin.wasm")
sign_test(verify-65-byte-signature 1 "signature is 65 bytes; an Ed25519 signature is 64"
  "${ed_keys} && openssl pkeyutl -sign -inkey ed.pem -rawin -in plugin.wasm -out plugin.sig && printf x >> plugin.sig && ${W} verify --key ed.pub --format ed25519 --signature plugin.sig plugin.wasm")
sign_test(verify-flipped-plugin-byte 1 "error: plugin.wasm: the ed25519 signature does not verify"
  "${ed_keys} && openssl pkeyutl -sign -inkey ed.pem -rawin -in plugin.wasm -out plugin.sig && python3 -c 'd=bytearray(open(\"plugin.wasm\",\"rb\").read()); d[len(d)//2]^=1; open(\"plugin.wasm\",\"wb\").write(d)' && ${W} verify --key ed.pub --signature plugin.sig plugin.wasm")
sign_test(verify-truncated-pem 1 "error: .*ed.pub"
  "${ed_keys} && openssl pkeyutl -sign -inkey ed.pem -rawin -in plugin.wasm -out plugin.sig && head -c 60 ed.pub > short.pub && mv short.pub ed.pub && ${W} verify --key ed.pub --signature plugin.sig plugin.wasm")
sign_test(verify-oversized-signature 1 "plugin.sig: cannot read: the file is over 1048576 bytes"
  "${ed_keys} && head -c 1048577 /dev/zero > plugin.sig && ${W} verify --key ed.pub --signature plugin.sig plugin.wasm")
sign_test(sign-cosign-with-ed25519-key 1 "error: a cosign signature needs an EC P-256 key"
  "${ed_keys} && ${W} sign --key ed.pem --format cosign plugin.wasm")
sign_test(sign-public-key-as-private 1 "error: ed.pub: "
  "${ed_keys} && ${W} sign --key ed.pub plugin.wasm")
# A failed sign leaves an existing signature file as it was.
sign_test(sign-failure-keeps-output 1 "^keep\n"
  "${ed_keys} && echo keep > plugin.sig && ${W} sign --key ed.pem --format cosign -o plugin.sig plugin.wasm 2>/dev/null; s=$?; cat plugin.sig; exit $s")

# Usage errors: exit 2.
sign_test(sign-needs-key 2 "--key PRIVATE.pem is required" "${W} sign plugin.wasm")
sign_test(sign-unknown-format 2 "unknown format 'pgp'" "${ed_keys} && ${W} sign --key ed.pem --format pgp plugin.wasm")
sign_test(sign-statement-needs-dsse 2 "--name, --version and --capabilities belong to --format dsse"
  "${ed_keys} && ${W} sign --key ed.pem --format ed25519 --name a --version 1 plugin.wasm")
sign_test(sign-dsse-needs-version 2 "a DSSE statement needs --name and --version"
  "${ed_keys} && ${W} sign --key ed.pem --name a plugin.wasm")
sign_test(verify-needs-signature 2 "--signature SIG is required" "${ed_keys} && ${W} verify --key ed.pub plugin.wasm")
sign_test(verify-unknown-option 2 "unknown option '--keys'" "${W} verify --keys ed.pub plugin.wasm")
status_test(sign-help 0 "usage: warden sign --key PRIVATE.pem.*exit status: 0 signed" "${W} sign --help")
status_test(verify-help 0 "usage: warden verify --key PUBLIC.pem.*exit status: 0 verified" "${W} verify --help")

# Under a tier policy that requires a signature from ed.pub (a one-line YAML document written by
# the test): warden call and warden audit verify with the tier's keys, and a DSSE statement bounds
# the grants to the capabilities its publisher signed.
set(signed_policy "printf '{default_tier: signed, tiers: {signed: {sources: [s], capabilities: [log_emit, config_read, vars], supply_chain: {signature: required, keys: [ed.pub]}}}}\\n' > policy.yaml && cp ${plugins}/count_vowels.wasm cv.wasm")
set(sign_cv "${W} sign --key ed.pem --name count-vowels --version 1 -o cv.dsse cv.wasm 2>/dev/null --capabilities")
sign_test(call-signed-plugin 0 "^\\{\"count\":3,\"total\":3,\"vowels\":\"aeiouAEIOU\"\\}\n$"
  "${ed_keys} && ${signed_policy} && ${sign_cv} memory_only,config_read,vars && ${W} call --policy policy.yaml --signature cv.dsse cv.wasm count_vowels -i 'Hello, World!'")
sign_test(call-unsigned-refused 1 "error: signature: tier \"signed\" requires a signed plugin, and no signature was given"
  "${ed_keys} && ${signed_policy} && ${W} call --policy policy.yaml cv.wasm count_vowels -i hello")
sign_test(call-signed-by-other-key 1 "error: signature: the ed25519 signature does not verify with key [0-9a-f]+ \\(.*ed.pub\\)"
  "${ed_keys} && ${other_keys} && ${signed_policy} && ${W} sign --key other.pem -o cv.sig cv.wasm 2>/dev/null && ${W} call --policy policy.yaml --signature cv.sig cv.wasm count_vowels -i hello")
sign_test(call-statement-bounds-grants 1 "error: policy: .*imports extism:host/env (config_get|var_get|var_set), which needs (config_read|vars)"
  "${ed_keys} && ${signed_policy} && ${sign_cv} memory_only && ${W} call --policy policy.yaml --signature cv.dsse cv.wasm count_vowels -i hello")
sign_test(audit-signed-plugin 0 "granted: config_read memory_only vars\nsignature: dsse signature by key [0-9a-f]+, for \"count-vowels\" \"1\" \\(the grants are bounded by its capabilities\\)\n.*verdict: admitted"
  "${ed_keys} && ${signed_policy} && ${sign_cv} memory_only,config_read,vars && ${W} audit cv.wasm --policy policy.yaml --signature cv.dsse")
sign_test(audit-unsigned-refused 1 "refused: signature: tier \"signed\" requires a signed plugin, and no signature was given"
  "${ed_keys} && ${signed_policy} && ${W} audit cv.wasm --policy policy.yaml")
sign_test(audit-statement-bounds-grants 1 "granted: memory_only\n.*config_get .*capability config_read, read_sensitive, DENIED.*verdict: refused"
  "${ed_keys} && ${signed_policy} && ${sign_cv} memory_only && ${W} audit cv.wasm --policy policy.yaml --signature cv.dsse")
