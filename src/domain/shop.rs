//! Shop items as plain data: the stored `Item` (old bot's field names), `Stock` (-1 = unlimited),
//! and parsing of admin input (`ItemInput` -> `ItemSpec`, `ItemPatch`) with every bound checked
//! here, so the dashboard and slash commands refuse the same bad values with the same words.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};

use super::error::DomainError;
use super::ids::RoleId;
use super::money::{Money, MAX_AMOUNT};

/// Longest item name, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest item description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1000;
/// Longest category name, in characters.
pub const MAX_CATEGORY_CHARS: usize = 50;
/// Longest emoji (a custom emoji is `<:name:id>`), in characters.
pub const MAX_EMOJI_CHARS: usize = 64;
/// Longest message shown when an item is used, in characters.
pub const MAX_USE_MESSAGE_CHARS: usize = 1000;
/// Largest stock count an item may hold.
pub const MAX_STOCK: u64 = 1_000_000_000;
/// Most units one purchase (or one admin inventory change) may move.
pub const MAX_QUANTITY: u32 = 100;
/// The category of an item created without one.
pub const DEFAULT_CATEGORY: &str = "general";

/// How many units are left: serialized as the old bot's integer (`-1` = unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "i64", try_from = "i64")]
pub enum Stock {
    Unlimited,
    Limited(u64),
}

impl Stock {
    /// `-1` = unlimited, `0..=MAX_STOCK` = that many; anything else is refused naming `stock`.
    pub fn from_raw(v: i64) -> Result<Stock, DomainError> {
        match v {
            -1 => Ok(Stock::Unlimited),
            n if n >= 0 && (n as u64) <= MAX_STOCK => Ok(Stock::Limited(n as u64)),
            _ => Err(DomainError::invalid(
                "stock",
                format!("must be -1 (unlimited) or between 0 and {MAX_STOCK}"),
            )),
        }
    }

    pub fn raw(self) -> i64 {
        match self {
            Stock::Unlimited => -1,
            Stock::Limited(n) => n as i64,
        }
    }

    /// Whether `quantity` units can be taken.
    pub fn covers(self, quantity: u64) -> bool {
        match self {
            Stock::Unlimited => true,
            Stock::Limited(n) => n >= quantity,
        }
    }

    pub fn is_out(self) -> bool {
        self == Stock::Limited(0)
    }
}

impl utoipa::PartialSchema for Stock {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};
        ObjectBuilder::new()
            .schema_type(Type::Integer)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
            .minimum(Some(-1))
            .description(Some("Units left; `-1` = unlimited."))
            .into()
    }
}

impl utoipa::ToSchema for Stock {}

impl From<Stock> for i64 {
    fn from(s: Stock) -> i64 {
        s.raw()
    }
}

impl TryFrom<i64> for Stock {
    type Error = DomainError;
    fn try_from(v: i64) -> Result<Stock, DomainError> {
        Stock::from_raw(v)
    }
}

impl std::fmt::Display for Stock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stock::Unlimited => f.write_str("unlimited"),
            Stock::Limited(n) => write!(f, "{n}"),
        }
    }
}

fn yes() -> bool {
    true
}

fn default_category() -> String {
    DEFAULT_CATEGORY.to_owned()
}

fn unlimited() -> i64 {
    -1
}

/// A shop item as stored and as the JSON API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Item {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub emoji: Option<String>,
    pub price: Money,
    #[serde(default = "default_category")]
    pub category: String,
    pub stock: Stock,
    /// For sale at all (an inactive item stays listed to admins only).
    #[serde(alias = "is_active", default = "yes")]
    pub active: bool,
    /// Shown in the shop listing and the shop channel (the "live stock display" toggle).
    #[serde(default = "yes")]
    pub visible: bool,
    /// A Discord role granted on purchase.
    #[serde(default)]
    pub role_id: Option<RoleId>,
    /// The most units one member may ever buy; `None` = no limit.
    #[serde(default)]
    pub max_per_user: Option<u32>,
    /// What `/use` replies with.
    #[serde(default)]
    pub use_message: Option<String>,
    #[serde(default)]
    pub sales_count: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Item {
    /// A new item from validated fields.
    pub fn new(id: u64, spec: ItemSpec, now: DateTime<Utc>) -> Item {
        let mut item = Item {
            id,
            name: String::new(),
            description: String::new(),
            emoji: None,
            price: Money::ZERO,
            category: String::new(),
            stock: Stock::Unlimited,
            active: true,
            visible: true,
            role_id: None,
            max_per_user: None,
            use_message: None,
            sales_count: 0,
            created_at: now,
            updated_at: now,
        };
        item.apply(spec);
        item
    }

    /// Overwrites every editable field.
    pub fn apply(&mut self, spec: ItemSpec) {
        self.name = spec.name.0;
        self.description = spec.description;
        self.emoji = spec.emoji;
        self.price = spec.price;
        self.category = spec.category;
        self.stock = spec.stock;
        self.active = spec.active;
        self.visible = spec.visible;
        self.role_id = spec.role_id;
        self.max_per_user = spec.max_per_user;
        self.use_message = spec.use_message;
    }

    /// Members can buy it: active and shown in the shop.
    pub fn is_for_sale(&self) -> bool {
        self.active && self.visible
    }

    /// "🎟️ Golden Ticket" (or the bare name without an emoji).
    pub fn label(&self) -> String {
        match &self.emoji {
            Some(e) => format!("{e} {}", self.name),
            None => self.name.clone(),
        }
    }
}

/// An item name: trimmed, 1 to 100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemName(String);

impl ItemName {
    pub fn parse(input: &str) -> Result<ItemName, DomainError> {
        let s = input.trim();
        let n = s.chars().count();
        if n == 0 {
            return Err(DomainError::invalid("name", "enter a name for the item"));
        }
        if n > MAX_NAME_CHARS {
            return Err(DomainError::invalid(
                "name",
                format!("must be at most {MAX_NAME_CHARS} characters (it has {n})"),
            ));
        }
        super::text::check_name("name", s)?;
        Ok(ItemName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for ItemName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

/// An item as an admin typed it (create form, JSON body). `validate` turns it into an `ItemSpec`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ItemInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub emoji: Option<String>,
    pub price: i64,
    #[serde(default = "default_category")]
    pub category: String,
    #[serde(default = "unlimited")]
    pub stock: i64,
    #[serde(alias = "is_active", default = "yes")]
    pub active: bool,
    #[serde(default = "yes")]
    pub visible: bool,
    #[serde(default)]
    pub role_id: Option<RoleId>,
    #[serde(default)]
    pub max_per_user: Option<u32>,
    #[serde(default)]
    pub use_message: Option<String>,
}

impl ItemInput {
    /// A minimal input: active, visible, unlimited, in the default category.
    pub fn new(name: impl Into<String>, price: i64) -> ItemInput {
        ItemInput {
            name: name.into(),
            description: String::new(),
            emoji: None,
            price,
            category: default_category(),
            stock: -1,
            active: true,
            visible: true,
            role_id: None,
            max_per_user: None,
            use_message: None,
        }
    }

    /// Checks every field; the error names the first bad one.
    pub fn validate(self) -> Result<ItemSpec, DomainError> {
        let name = ItemName::parse(&self.name)?;
        let description = self.description.trim().to_owned();
        super::text::check_text("description", &description)?;
        let n = description.chars().count();
        if n > MAX_DESCRIPTION_CHARS {
            return Err(DomainError::invalid(
                "description",
                format!("must be at most {MAX_DESCRIPTION_CHARS} characters (it has {n})"),
            ));
        }
        let emoji = optional_text("emoji", self.emoji, MAX_EMOJI_CHARS)?;
        let price = Money::positive(self.price, MAX_AMOUNT).map_err(|_| {
            DomainError::invalid("price", format!("must be between 1 and {MAX_AMOUNT}"))
        })?;
        let category = match self.category.trim() {
            "" => default_category(),
            c if c.chars().count() > MAX_CATEGORY_CHARS => {
                return Err(DomainError::invalid(
                    "category",
                    format!("must be at most {MAX_CATEGORY_CHARS} characters"),
                ))
            }
            c => {
                super::text::check_name("category", c)?;
                c.to_owned()
            }
        };
        let stock = Stock::from_raw(self.stock)?;
        if self.max_per_user == Some(0) {
            return Err(DomainError::invalid(
                "max_per_user",
                "must be at least 1, or empty for no limit",
            ));
        }
        let use_message = optional_text("use_message", self.use_message, MAX_USE_MESSAGE_CHARS)?;
        Ok(ItemSpec {
            name,
            description,
            emoji,
            price,
            category,
            stock,
            active: self.active,
            visible: self.visible,
            role_id: self.role_id,
            max_per_user: self.max_per_user,
            use_message,
        })
    }
}

impl From<&Item> for ItemInput {
    fn from(i: &Item) -> ItemInput {
        ItemInput {
            name: i.name.clone(),
            description: i.description.clone(),
            emoji: i.emoji.clone(),
            price: i.price.get(),
            category: i.category.clone(),
            stock: i.stock.raw(),
            active: i.active,
            visible: i.visible,
            role_id: i.role_id,
            max_per_user: i.max_per_user,
            use_message: i.use_message.clone(),
        }
    }
}

/// Trimmed optional text: empty means none; longer than `max` is refused naming `field`.
fn optional_text(
    field: &str,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, DomainError> {
    let Some(v) = v else { return Ok(None) };
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    if t.chars().count() > max {
        return Err(DomainError::invalid(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    super::text::check_text(field, t)?;
    Ok(Some(t.to_owned()))
}

/// Validated item fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemSpec {
    pub name: ItemName,
    pub description: String,
    pub emoji: Option<String>,
    pub price: Money,
    pub category: String,
    pub stock: Stock,
    pub active: bool,
    pub visible: bool,
    pub role_id: Option<RoleId>,
    pub max_per_user: Option<u32>,
    pub use_message: Option<String>,
}

/// A partial edit: absent fields stay as they are; for the nullable ones (`emoji`, `role_id`,
/// `max_per_user`, `use_message`) an explicit `null` clears the value.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct ItemPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    #[serde(deserialize_with = "nullable")]
    pub emoji: Option<Option<String>>,
    pub price: Option<i64>,
    pub category: Option<String>,
    pub stock: Option<i64>,
    #[serde(alias = "is_active")]
    pub active: Option<bool>,
    pub visible: Option<bool>,
    #[serde(deserialize_with = "nullable")]
    pub role_id: Option<Option<RoleId>>,
    #[serde(deserialize_with = "nullable")]
    pub max_per_user: Option<Option<u32>>,
    #[serde(deserialize_with = "nullable")]
    pub use_message: Option<Option<String>>,
}

/// Present-but-null becomes `Some(None)`; absent stays `None` (via `#[serde(default)]`).
fn nullable<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl ItemPatch {
    /// The item's current fields with this patch laid over them (not yet validated).
    pub fn apply_to(self, item: &Item) -> ItemInput {
        let mut i = ItemInput::from(item);
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = self.$f { i.$f = v; } )*};
        }
        set!(
            name,
            description,
            emoji,
            price,
            category,
            stock,
            active,
            visible,
            role_id,
            max_per_user,
            use_message
        );
        i
    }
}

/// A per-user purchase quantity: `1..=MAX_QUANTITY`.
pub fn parse_quantity(q: u32) -> Result<u32, DomainError> {
    if q == 0 || q > MAX_QUANTITY {
        return Err(DomainError::invalid(
            "quantity",
            format!("must be between 1 and {MAX_QUANTITY}"),
        ));
    }
    Ok(q)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(e: DomainError) -> String {
        match e {
            DomainError::Invalid { field, .. } => field,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn item_name_is_trimmed_and_bounded() {
        assert_eq!(
            ItemName::parse("  Golden Ticket ").unwrap().as_str(),
            "Golden Ticket"
        );
        assert_eq!(
            ItemName::parse(&"é".repeat(100))
                .unwrap()
                .as_str()
                .chars()
                .count(),
            100
        );
        assert!(ItemName::parse(&"é".repeat(101))
            .unwrap_err()
            .to_string()
            .contains("at most 100 characters (it has 101)"));
        assert!(ItemName::parse("   ").is_err());
        assert!(ItemName::parse("two\nlines").is_err());
    }

    #[test]
    fn stock_round_trips_the_old_integer_form() {
        assert_eq!(Stock::from_raw(-1).unwrap(), Stock::Unlimited);
        assert_eq!(Stock::from_raw(0).unwrap(), Stock::Limited(0));
        assert_eq!(field(Stock::from_raw(-2).unwrap_err()), "stock");
        assert!(Stock::from_raw(MAX_STOCK as i64 + 1).is_err());
        assert_eq!(serde_json::to_string(&Stock::Unlimited).unwrap(), "-1");
        assert_eq!(
            serde_json::from_str::<Stock>("7").unwrap(),
            Stock::Limited(7)
        );
        assert!(serde_json::from_str::<Stock>("-5").is_err());
        assert!(Stock::Unlimited.covers(u64::MAX));
        assert!(!Stock::Limited(2).covers(3));
    }

    #[test]
    fn validation_names_each_bad_field() {
        let ok = ItemInput::new("Ticket", 10);
        let bad = |f: fn(&mut ItemInput)| {
            let mut i = ok.clone();
            f(&mut i);
            field(i.validate().unwrap_err())
        };
        assert_eq!(bad(|i| i.name = String::new()), "name");
        assert_eq!(bad(|i| i.description = "x".repeat(1001)), "description");
        assert_eq!(bad(|i| i.price = 0), "price");
        assert_eq!(bad(|i| i.price = -5), "price");
        assert_eq!(bad(|i| i.price = MAX_AMOUNT + 1), "price");
        assert_eq!(bad(|i| i.stock = -3), "stock");
        assert_eq!(bad(|i| i.category = "c".repeat(51)), "category");
        assert_eq!(bad(|i| i.emoji = Some("e".repeat(65))), "emoji");
        assert_eq!(bad(|i| i.max_per_user = Some(0)), "max_per_user");
        assert_eq!(
            bad(|i| i.use_message = Some("u".repeat(1001))),
            "use_message"
        );
        let spec = ok.validate().unwrap();
        assert_eq!(spec.category, DEFAULT_CATEGORY);
        assert_eq!(spec.stock, Stock::Unlimited);
    }

    #[test]
    fn blank_optional_text_becomes_none_and_blank_category_the_default() {
        let mut i = ItemInput::new("Ticket", 10);
        i.emoji = Some("  ".into());
        i.use_message = Some("".into());
        i.category = " ".into();
        let s = i.validate().unwrap();
        assert_eq!((s.emoji, s.use_message), (None, None));
        assert_eq!(s.category, "general");
    }

    #[test]
    fn item_reads_the_old_bots_field_names() {
        let json = r#"{"id":3,"name":"VIP","description":"d","price":500,"category":"roles",
            "stock":-1,"emoji":"👑","is_active":false,"sales_count":4,
            "created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}"#;
        let item: Item = serde_json::from_str(json).unwrap();
        assert!(!item.active);
        assert!(item.visible);
        assert_eq!(item.stock, Stock::Unlimited);
        assert_eq!(item.sales_count, 4);
        let out = serde_json::to_value(&item).unwrap();
        assert_eq!(out["stock"], -1);
        assert_eq!(out["active"], false);
        assert_eq!(out["price"], 500);
    }

    #[test]
    fn patch_distinguishes_absent_from_null() {
        let p: ItemPatch = serde_json::from_str(r#"{"price":20,"role_id":null}"#).unwrap();
        assert_eq!(p.price, Some(20));
        assert_eq!(p.role_id, Some(None));
        assert_eq!(p.emoji, None);
        let mut item = Item::new(
            1,
            ItemInput::new("A", 5).validate().unwrap(),
            crate::testing::t0(),
        );
        item.role_id = Some(RoleId(9));
        item.emoji = Some("🎁".into());
        let input = p.apply_to(&item);
        assert_eq!((input.price, input.role_id), (20, None));
        assert_eq!(input.emoji.as_deref(), Some("🎁"));
        assert!(serde_json::from_str::<ItemPatch>(r#"{"prise":1}"#).is_err());
    }

    #[test]
    fn quantity_is_bounded() {
        assert!(parse_quantity(0).is_err());
        assert_eq!(parse_quantity(100).unwrap(), 100);
        assert_eq!(field(parse_quantity(101).unwrap_err()), "quantity");
    }
}
