//! A serde deserializer over a `toml::Value` that says where and what went wrong: the dotted
//! key path, the type a field expects and the type it found (`expected an integer, found a
//! string`). It also records the keys no field asked for, so unknown keys can be logged and
//! tolerated instead of rejected: users carry config files between versions.
//!
//! Type checks happen here, before a visitor runs, so the messages use TOML's words ("a table",
//! "an array") rather than Rust's ("i64", "a sequence").

use serde::de::{self, DeserializeSeed, Deserializer, Unexpected, Visitor};
use std::cell::RefCell;
use std::fmt;
use toml::Value;

/// What is wrong with one value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Type {
        expected: String,
        found: &'static str,
    },
    UnknownVariant {
        found: String,
        expected: &'static [&'static str],
    },
    Range {
        expected: String,
        found: i64,
    },
    MissingField(&'static str),
    /// A rule of the field itself, in its own words.
    Invalid(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Type { expected, found } => write!(f, "expected {expected}, found {found}"),
            Problem::UnknownVariant { found, expected } => {
                write!(f, "expected {}, found `{found}`", one_of(expected))
            }
            Problem::Range { expected, found } => write!(f, "expected {expected}, found {found}"),
            Problem::MissingField(field) => write!(f, "missing key `{field}`"),
            Problem::Invalid(message) => f.write_str(message),
        }
    }
}

fn one_of(names: &[&str]) -> String {
    match names {
        [] => "nothing".to_string(),
        [one] => format!("`{one}`"),
        _ => {
            let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
            format!("one of {}", quoted.join(", "))
        }
    }
}

/// A problem at a key path (empty path = the document itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeError {
    pub path: Option<Vec<String>>,
    pub problem: Problem,
}

impl DeError {
    pub fn new(path: Vec<String>, problem: Problem) -> Self {
        DeError {
            path: Some(path),
            problem,
        }
    }

    fn unplaced(problem: Problem) -> Self {
        DeError {
            path: None,
            problem,
        }
    }

    /// The innermost deserializer that sees an error names its place; outer ones keep it.
    fn at(mut self, path: Path<'_>) -> Self {
        if self.path.is_none() {
            let mut segments = Vec::new();
            path.collect(&mut segments);
            self.path = Some(segments);
        }
        self
    }

    /// The key path, dotted (`model_providers.local.base_url`).
    pub fn key(&self) -> String {
        self.path
            .as_deref()
            .map(|p| p.join("."))
            .unwrap_or_default()
    }

    pub fn segments(&self) -> &[String] {
        self.path.as_deref().unwrap_or(&[])
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.key().as_str() {
            "" => write!(f, "{}", self.problem),
            key => write!(f, "{key}: {}", self.problem),
        }
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError::unplaced(Problem::Invalid(msg.to_string()))
    }

    fn invalid_type(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::unplaced(Problem::Type {
            expected: exp.to_string(),
            found: unexpected_kind(&unexp),
        })
    }

    fn invalid_value(unexp: Unexpected<'_>, exp: &dyn de::Expected) -> Self {
        DeError::unplaced(Problem::Invalid(format!("expected {exp}, found {unexp}")))
    }

    fn invalid_length(len: usize, exp: &dyn de::Expected) -> Self {
        DeError::unplaced(Problem::Invalid(format!(
            "expected {exp}, found {len} elements"
        )))
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError::unplaced(Problem::UnknownVariant {
            found: variant.to_string(),
            expected,
        })
    }

    fn missing_field(field: &'static str) -> Self {
        DeError::unplaced(Problem::MissingField(field))
    }
}

fn unexpected_kind(unexp: &Unexpected<'_>) -> &'static str {
    match unexp {
        Unexpected::Bool(_) => "a boolean",
        Unexpected::Unsigned(_) | Unexpected::Signed(_) => "an integer",
        Unexpected::Float(_) => "a float",
        Unexpected::Char(_) | Unexpected::Str(_) => "a string",
        Unexpected::Bytes(_) => "bytes",
        Unexpected::Unit | Unexpected::Option => "nothing",
        Unexpected::Seq => "an array",
        Unexpected::Map => "a table",
        _ => "another kind of value",
    }
}

/// The TOML word for a value's type, as used in error messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a float",
        Value::Boolean(_) => "a boolean",
        Value::Datetime(_) => "a datetime",
        Value::Array(_) => "an array",
        Value::Table(_) => "a table",
    }
}

/// A dotted key path built on the stack while descending; rendered only when needed.
#[derive(Clone, Copy)]
enum Path<'p> {
    Root,
    Key(&'p Path<'p>, &'p str),
    Index(&'p Path<'p>, usize),
}

impl Path<'_> {
    fn collect(&self, out: &mut Vec<String>) {
        match self {
            Path::Root => {}
            Path::Key(parent, key) => {
                parent.collect(out);
                out.push((*key).to_string());
            }
            Path::Index(parent, index) => {
                parent.collect(out);
                out.push(index.to_string());
            }
        }
    }
}

impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Key(parent, key) => {
                if !matches!(parent, Path::Root) {
                    write!(f, "{parent}.")?;
                }
                f.write_str(key)
            }
            Path::Index(parent, index) => {
                if !matches!(parent, Path::Root) {
                    write!(f, "{parent}.")?;
                }
                write!(f, "{index}")
            }
        }
    }
}

/// Shared by every deserializer of one run: the keys nobody asked for.
#[derive(Default)]
struct Ctx {
    unknown: RefCell<Vec<String>>,
}

/// Deserializes `T` from a TOML value; returns it with the dotted paths of ignored keys.
pub fn from_value<'de, T: de::Deserialize<'de>>(
    value: &'de Value,
) -> Result<(T, Vec<String>), DeError> {
    let ctx = Ctx::default();
    let parsed = T::deserialize(ValueDe {
        value,
        path: Path::Root,
        ctx: &ctx,
    })?;
    Ok((parsed, ctx.unknown.into_inner()))
}

struct ValueDe<'de, 'p> {
    value: &'de Value,
    path: Path<'p>,
    ctx: &'p Ctx,
}

impl ValueDe<'_, '_> {
    fn type_error(&self, expected: impl Into<String>) -> DeError {
        DeError::unplaced(Problem::Type {
            expected: expected.into(),
            found: kind(self.value),
        })
    }

    fn integer(&self) -> Result<i64, DeError> {
        match self.value {
            Value::Integer(n) => Ok(*n),
            _ => Err(self.type_error("an integer")),
        }
    }

    fn signed(&self, min: i64, max: i64) -> Result<i64, DeError> {
        let n = self.integer()?;
        if n < min || n > max {
            return Err(DeError::unplaced(Problem::Range {
                expected: format!("an integer between {min} and {max}"),
                found: n,
            }));
        }
        Ok(n)
    }

    fn unsigned(&self, max: u64) -> Result<u64, DeError> {
        let n = self.integer()?;
        let expected = if max == u64::MAX {
            "a non-negative integer".to_string()
        } else {
            format!("an integer between 0 and {max}")
        };
        match u64::try_from(n) {
            Ok(u) if u <= max => Ok(u),
            _ => Err(DeError::unplaced(Problem::Range { expected, found: n })),
        }
    }
}

macro_rules! signed {
    ($($method:ident => $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let path = self.path;
            self.signed(<$ty>::MIN as i64, <$ty>::MAX as i64)
                .and_then(|n| visitor.visit_i64(n))
                .map_err(|e| e.at(path))
        }
    )*};
}

macro_rules! unsigned {
    ($($method:ident => $ty:ty),*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let path = self.path;
            self.unsigned(<$ty>::MAX as u64)
                .and_then(|n| visitor.visit_u64(n))
                .map_err(|e| e.at(path))
        }
    )*};
}

impl<'de> Deserializer<'de> for ValueDe<'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let path = self.path;
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            Value::Integer(n) => visitor.visit_i64(*n),
            Value::Float(x) => visitor.visit_f64(*x),
            Value::Boolean(b) => visitor.visit_bool(*b),
            Value::Datetime(d) => visitor.visit_string(d.to_string()),
            Value::Array(items) => visitor.visit_seq(SeqDe {
                items: items.iter().enumerate(),
                path,
                ctx: self.ctx,
            }),
            Value::Table(table) => visitor.visit_map(MapDe {
                entries: table.iter(),
                pending: None,
                path,
                ctx: self.ctx,
            }),
        }
        .map_err(|e| e.at(path))
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Boolean(b) => visitor.visit_bool(*b),
            _ => Err(self.type_error("a boolean")),
        }
        .map_err(|e| e.at(self.path))
    }

    signed!(deserialize_i8 => i8, deserialize_i16 => i16, deserialize_i32 => i32, deserialize_i64 => i64);
    unsigned!(deserialize_u8 => u8, deserialize_u16 => u16, deserialize_u32 => u32, deserialize_u64 => u64);

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Float(x) => visitor.visit_f64(*x),
            Value::Integer(n) => visitor.visit_f64(*n as f64),
            _ => Err(self.type_error("a number")),
        }
        .map_err(|e| e.at(self.path))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) if s.chars().count() == 1 => visitor.visit_borrowed_str(s),
            _ => Err(self.type_error("a single character")),
        }
        .map_err(|e| e.at(self.path))
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::String(s) => visitor.visit_borrowed_str(s),
            _ => Err(self.type_error("a string")),
        }
        .map_err(|e| e.at(self.path))
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_any(visitor)
    }

    /// TOML has no null: a present key is always `Some`; absent keys take serde defaults.
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let path = self.path;
        visitor.visit_some(self).map_err(|e| e.at(path))
    }

    fn deserialize_unit<V: Visitor<'de>>(self, _visitor: V) -> Result<V::Value, DeError> {
        Err(self.type_error("nothing").at(self.path))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let path = self.path;
        visitor.visit_newtype_struct(self).map_err(|e| e.at(path))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Array(_) => self.deserialize_any(visitor),
            _ => Err(self.type_error("an array").at(self.path)),
        }
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.value {
            Value::Table(_) => self.deserialize_any(visitor),
            _ => Err(self.type_error("a table").at(self.path)),
        }
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    /// Unit variants are strings; a variant with data is a table with exactly one key.
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let path = self.path;
        match self.value {
            Value::String(name) => visitor.visit_enum(UnitVariant { name }),
            Value::Table(table) if table.len() == 1 => match table.iter().next() {
                Some((name, value)) => visitor.visit_enum(DataVariant {
                    name,
                    value,
                    parent: path,
                    ctx: self.ctx,
                }),
                None => Err(self.type_error(one_of(variants))),
            },
            _ => Err(self.type_error(one_of(variants))),
        }
        .map_err(|e| e.at(path))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    /// Called for keys no field claims: remembered, then skipped.
    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.ctx.unknown.borrow_mut().push(self.path.to_string());
        visitor.visit_unit()
    }
}

struct SeqDe<'de, 'p> {
    items: std::iter::Enumerate<std::slice::Iter<'de, Value>>,
    path: Path<'p>,
    ctx: &'p Ctx,
}

impl<'de> de::SeqAccess<'de> for SeqDe<'de, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some((index, value)) = self.items.next() else {
            return Ok(None);
        };
        seed.deserialize(ValueDe {
            value,
            path: Path::Index(&self.path, index),
            ctx: self.ctx,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

struct MapDe<'de, 'p> {
    entries: toml::map::Iter<'de>,
    pending: Option<(&'de str, &'de Value)>,
    path: Path<'p>,
    ctx: &'p Ctx,
}

impl<'de> de::MapAccess<'de> for MapDe<'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, value)) = self.entries.next() else {
            return Ok(None);
        };
        self.pending = Some((key.as_str(), value));
        let key_de: de::value::BorrowedStrDeserializer<'de, DeError> =
            de::value::BorrowedStrDeserializer::new(key.as_str());
        seed.deserialize(key_de).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, value)) = self.pending.take() else {
            return Err(DeError::unplaced(Problem::Invalid(
                "a value was requested before its key".to_string(),
            )));
        };
        seed.deserialize(ValueDe {
            value,
            path: Path::Key(&self.path, key),
            ctx: self.ctx,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// An enum written as a string: only unit variants fit.
struct UnitVariant<'de> {
    name: &'de str,
}

impl<'de> de::EnumAccess<'de> for UnitVariant<'de> {
    type Error = DeError;
    type Variant = UnitOnly;

    fn variant_seed<S: DeserializeSeed<'de>>(
        self,
        seed: S,
    ) -> Result<(S::Value, UnitOnly), DeError> {
        let name: de::value::BorrowedStrDeserializer<'de, DeError> =
            de::value::BorrowedStrDeserializer::new(self.name);
        seed.deserialize(name).map(|v| (v, UnitOnly))
    }
}

struct UnitOnly;

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _seed: T) -> Result<T::Value, DeError> {
        Err(DeError::unplaced(Problem::Type {
            expected: "a table".into(),
            found: "a string",
        }))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, _visitor: V) -> Result<V::Value, DeError> {
        Err(DeError::unplaced(Problem::Type {
            expected: "a table".into(),
            found: "a string",
        }))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        _visitor: V,
    ) -> Result<V::Value, DeError> {
        Err(DeError::unplaced(Problem::Type {
            expected: "a table".into(),
            found: "a string",
        }))
    }
}

/// An enum written as `{ variant = value }`.
struct DataVariant<'de, 'p> {
    name: &'de str,
    value: &'de Value,
    parent: Path<'p>,
    ctx: &'p Ctx,
}

impl<'de, 'p> de::EnumAccess<'de> for DataVariant<'de, 'p> {
    type Error = DeError;
    type Variant = Self;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Self), DeError> {
        let name: de::value::BorrowedStrDeserializer<'de, DeError> =
            de::value::BorrowedStrDeserializer::new(self.name);
        seed.deserialize(name).map(|v| (v, self))
    }
}

impl<'de> de::VariantAccess<'de> for DataVariant<'de, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Err(DeError::unplaced(Problem::Type {
            expected: "a string".into(),
            found: "a table",
        }))
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        let parent = self.parent;
        seed.deserialize(ValueDe {
            value: self.value,
            path: Path::Key(&parent, self.name),
            ctx: self.ctx,
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        let parent = self.parent;
        ValueDe {
            value: self.value,
            path: Path::Key(&parent, self.name),
            ctx: self.ctx,
        }
        .deserialize_seq(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let parent = self.parent;
        ValueDe {
            value: self.value,
            path: Path::Key(&parent, self.name),
            ctx: self.ctx,
        }
        .deserialize_map(visitor)
    }
}
