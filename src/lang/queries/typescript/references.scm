; Identifier occurrences with their role. A node matched by several patterns keeps the
; most specific role (call > macro > member > type > path > other).
(call_expression function: (identifier) @ref.call)
(call_expression function: (member_expression property: (property_identifier) @ref.call))
(new_expression constructor: (identifier) @ref.call)
(new_expression constructor: (member_expression property: (property_identifier) @ref.call))
(member_expression property: (property_identifier) @ref.member)
(type_identifier) @ref.type
(nested_type_identifier module: (identifier) @ref.path)
(member_expression object: (identifier) @ref.path)
(identifier) @ref.other
(shorthand_property_identifier) @ref.other
