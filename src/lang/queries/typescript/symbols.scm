; Definitions for TypeScript, TSX and JavaScript (JavaScript is parsed with the TSX
; grammar, a superset of JSX). Each pattern captures @def.<kind> and @name.
(function_declaration name: (identifier) @name) @def.function
(generator_function_declaration name: (identifier) @name) @def.function
(function_signature name: (identifier) @name) @def.function
(class_declaration name: (type_identifier) @name) @def.class
(abstract_class_declaration name: (type_identifier) @name) @def.class
(interface_declaration name: (type_identifier) @name) @def.interface
(type_alias_declaration name: (type_identifier) @name) @def.type
(enum_declaration name: (identifier) @name) @def.enum
(internal_module name: (_) @name) @def.namespace
(module name: (_) @name) @def.namespace
(method_definition name: (_) @name) @def.method
(method_signature name: (_) @name) @def.method
(abstract_method_signature name: (_) @name) @def.method
(public_field_definition name: (_) @name) @def.property
(property_signature name: (_) @name) @def.property
(enum_assignment name: (_) @name) @def.property
(enum_body (property_identifier) @name @def.property)
; Variables declared at the top level of a module or exported; those holding a function
; are reported as functions by the extractor.
(program (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))
(program (variable_declaration (variable_declarator name: (identifier) @name) @def.variable))
(export_statement declaration: (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))
(export_statement declaration: (variable_declaration (variable_declarator name: (identifier) @name) @def.variable))
(ambient_declaration (lexical_declaration (variable_declarator name: (identifier) @name) @def.variable))
(ambient_declaration (variable_declaration (variable_declarator name: (identifier) @name) @def.variable))
