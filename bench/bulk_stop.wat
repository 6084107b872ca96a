;; One instruction over a GiB, for vm_bench's BM_BulkStopsOnInterrupt: how long after a cancel (or
;; the deadline) such a call returns.
(module
  (memory 16385)
  (func (export "fill_gib") (memory.fill (i32.const 0) (i32.const 171) (i32.const 0x40000000)))
  (func (export "copy_gib") (memory.copy (i32.const 65536) (i32.const 0) (i32.const 0x40000000))))
