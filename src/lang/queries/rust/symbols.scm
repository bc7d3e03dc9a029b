; Definitions. Each pattern captures the definition node as @def.<kind> and its name as
; @name. Functions inside impls and traits are reported as methods by the extractor.
(function_item name: (identifier) @name) @def.function
(function_signature_item name: (identifier) @name) @def.function
(struct_item name: (type_identifier) @name) @def.struct
(union_item name: (type_identifier) @name) @def.struct
(enum_item name: (type_identifier) @name) @def.enum
(enum_variant name: (identifier) @name) @def.variant
(field_declaration name: (field_identifier) @name) @def.field
(trait_item name: (type_identifier) @name) @def.trait
(impl_item type: (_) @name) @def.impl
(type_item name: (type_identifier) @name) @def.type_alias
(associated_type name: (type_identifier) @name) @def.type_alias
(const_item name: (identifier) @name) @def.const
(static_item name: (identifier) @name) @def.static
(macro_definition name: (identifier) @name) @def.macro
(mod_item name: (identifier) @name) @def.module
