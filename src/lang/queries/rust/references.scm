; Identifier occurrences with their role. A node matched by several patterns keeps the
; most specific role (call > macro > member > type > path > other).
(call_expression function: (identifier) @ref.call)
(call_expression function: (field_expression field: (field_identifier) @ref.call))
(call_expression function: (scoped_identifier name: (identifier) @ref.call))
(call_expression function: (generic_function function: (identifier) @ref.call))
(call_expression function: (generic_function function: (scoped_identifier name: (identifier) @ref.call)))
(call_expression function: (generic_function function: (field_expression field: (field_identifier) @ref.call)))
(macro_invocation macro: (identifier) @ref.macro)
(macro_invocation macro: (scoped_identifier name: (identifier) @ref.macro))
(field_expression field: (field_identifier) @ref.member)
(field_initializer field: (field_identifier) @ref.member)
(shorthand_field_initializer (identifier) @ref.member)
(field_pattern name: (field_identifier) @ref.member)
(type_identifier) @ref.type
(scoped_identifier path: (identifier) @ref.path)
(scoped_type_identifier path: (identifier) @ref.path)
(scoped_identifier name: (identifier) @ref.path)
(scoped_use_list path: (identifier) @ref.path)
(identifier) @ref.other
