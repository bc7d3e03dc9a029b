//! The kinds of the facts the queries capture: what a definition is (`SymbolKind`), how an
//! identifier is used (`RefRole`) and what an import is (`ImportKind`). They live with the
//! queries that name them; the index re-exports them.

macro_rules! string_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[derive(bitcode::Encode, bitcode::Decode)]
        pub enum $name { $($(#[$vmeta])* $variant),* }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

string_enum! {
    /// What a definition is. Rust and TypeScript share the common kinds.
    pub enum SymbolKind {
        Function => "function",
        Method => "method",
        Struct => "struct",
        Enum => "enum",
        Variant => "variant",
        Field => "field",
        Trait => "trait",
        Impl => "impl",
        TypeAlias => "type",
        Const => "const",
        Static => "static",
        Macro => "macro",
        Module => "module",
        Class => "class",
        Interface => "interface",
        Namespace => "namespace",
        Property => "property",
        Variable => "variable",
    }
}

impl SymbolKind {
    pub(crate) fn from_capture(name: &str) -> Option<SymbolKind> {
        Some(match name {
            "type_alias" | "type" => SymbolKind::TypeAlias,
            other => *SymbolKind::ALL.iter().find(|kind| kind.as_str() == other)?,
        })
    }

    /// Kinds that hold other definitions (their members get them as container).
    pub fn is_container(self) -> bool {
        matches!(
            self,
            SymbolKind::Struct
                | SymbolKind::Enum
                | SymbolKind::Trait
                | SymbolKind::Impl
                | SymbolKind::Module
                | SymbolKind::Class
                | SymbolKind::Interface
                | SymbolKind::Namespace
        )
    }

    /// Kinds that are members of a container rather than items of their own.
    pub fn is_member(self) -> bool {
        matches!(self, SymbolKind::Field | SymbolKind::Variant | SymbolKind::Property)
    }

    /// Kinds that name a type (what a type-only import can bring: TS `import type`).
    pub fn is_type(self) -> bool {
        matches!(
            self,
            SymbolKind::Struct | SymbolKind::Enum | SymbolKind::Trait | SymbolKind::TypeAlias | SymbolKind::Class | SymbolKind::Interface | SymbolKind::Namespace
        )
    }
}

string_enum! {
    /// How an identifier is used where it occurs.
    pub enum RefRole {
        Call => "call",
        Macro => "macro",
        Member => "member",
        Type => "type",
        Path => "path",
        Other => "other",
    }
}

impl RefRole {
    pub(crate) fn from_capture(name: &str) -> Option<RefRole> {
        RefRole::ALL.iter().copied().find(|role| role.as_str() == name)
    }
}

string_enum! {
    pub enum ImportKind {
        /// Rust `use` (one entry per leaf of the use tree).
        Use => "use",
        /// Rust `mod foo;`.
        Mod => "mod",
        /// Rust `extern crate foo;`.
        ExternCrate => "extern crate",
        /// TS/JS `import ... from "x"` or `import "x"`.
        Import => "import",
        /// TS/JS `export ... from "x"`.
        ReExport => "export from",
        /// JS `require("x")`.
        Require => "require",
        /// `import("x")`.
        Dynamic => "dynamic import",
    }
}
