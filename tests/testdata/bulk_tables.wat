;; table.fill and table.copy over 10 M elements (80 MB, the decoder's limit for one table), for tests/budget_test.cc.
(module
  (table $t (export "table") 10000000 funcref)
  (func $f)
  (elem declare func $f)
  (func (export "fill_all")
    (table.fill $t (i32.const 0) (ref.func $f) (i32.const 10000000)))
  (func (export "copy_up")
    (table.copy $t $t (i32.const 1) (i32.const 0) (i32.const 9999999)))
  (func (export "is_null") (param i32) (result i32) (ref.is_null (table.get $t (local.get 0))))
)
