;; A linked reactor whose _initialize traps: the plugin's calls fail and say which init failed.
(module
  (func (export "_initialize") unreachable)
  (func (export "inits") (result i32) (i32.const 0)))
