;; Microbenchmark guests for bench/vm_bench.cc.
(module $vm_bench
  (import "host" "nop" (func $host_nop (param i32) (result i32)))
  ;; Host -> guest: the cheapest possible export.
  (func (export "identity") (param i32) (result i32) (local.get 0))
  ;; Guest -> host: call the host `n` times.
  (func (export "call_host") (param $n i32) (result i32)
    (local $acc i32)
    (block $done
      (loop $next
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $acc (i32.add (local.get $acc) (call $host_nop (local.get $n))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $next)))
    (local.get $acc))
  ;; An empty counted loop: the interpreter's dispatch and fuel overhead per back-edge.
  (func (export "count") (param $n i32) (result i32)
    (local $i i32)
    (loop $next
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $next (i32.lt_u (local.get $i) (local.get $n))))
    (local.get $i))
  ;; Spins until interrupted.
  (func (export "spin") (loop $forever (br $forever))))
