; Imports and re-exports with their module specifier; the extractor reads the imported
; names from the statement.
(import_statement source: (string (string_fragment) @import.source)) @import.import
(export_statement source: (string (string_fragment) @import.source)) @import.reexport
(call_expression
  function: (identifier) @_require (#eq? @_require "require")
  arguments: (arguments . (string (string_fragment) @import.source))) @import.require
(call_expression
  function: (import)
  arguments: (arguments . (string (string_fragment) @import.source))) @import.dynamic
