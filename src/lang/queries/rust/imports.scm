; Imports: `use` trees (flattened by the extractor), out-of-line `mod` declarations and
; `extern crate`.
(use_declaration argument: (_) @import.use)
(mod_item !body name: (identifier) @import.mod)
(extern_crate_declaration name: (identifier) @import.crate)
