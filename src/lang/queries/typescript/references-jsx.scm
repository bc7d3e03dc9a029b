; JSX element names (TSX and JavaScript only): a component used as an element is a call.
(jsx_opening_element name: (identifier) @ref.call)
(jsx_self_closing_element name: (identifier) @ref.call)
