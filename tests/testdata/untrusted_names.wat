;; Import names with terminal escapes (ESC [ 2 J clears the screen, CR returns to the line's start):
;; every error that names them must show them escaped.
(module
  (import "env\1b[2J" "f\0d\1b[32mcapability: none\1b[0m" (func))
)
