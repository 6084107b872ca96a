;; Grows a table by `delta` elements; table.grow returns -1 when a limit or the budget refuses.
(module
  (table $t (export "table") 0 funcref)
  (func (export "grow") (param $delta i32) (result i32)
    (table.grow $t (ref.null func) (local.get $delta)))
  (func (export "size") (result i32) (table.size $t))
)
