;; The guest of examples/embed: uses one host function, loops forever on request, and traps.
(module $guest
  (import "env" "host_add" (func $host_add (param i32 i32) (result i32)))
  ;; 1*1 + 2*2 + ... + n*n, every addition done by the host.
  (func $sum_squares (export "sum_squares") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.gt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                               (local.get $n)))
        (local.set $sum (call $host_add (local.get $sum)
                                        (i32.mul (local.get $i) (local.get $i))))
        (br $next)))
    (local.get $sum))
  (func $spin (export "spin") (loop $forever (br $forever)))
  (func $divide (export "divide") (param i32 i32) (result i32)
    (i32.div_u (local.get 0) (local.get 1))))
