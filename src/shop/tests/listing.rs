//! Listings, categories and name lookups.

use super::*;
use crate::shop::{BulkAction, ItemFilter};

fn names(items: &[Item]) -> Vec<&str> {
    items.iter().map(|i| i.name.as_str()).collect()
}

/// Apple (food, for sale), Bread (food, sold out), Crown (Royal, hidden), Dagger (weapons, inactive).
fn stocked_shop() -> Fixture {
    let f = fixture();
    f.create_with("Apple", 1, |i| i.category = "food".into());
    f.create_with("Bread", 1, |i| {
        i.category = "Food".into();
        i.stock = 0;
    });
    f.create_with("Crown", 1, |i| {
        i.category = "Royal".into();
        i.visible = false;
    });
    f.create_with("Dagger", 1, |i| {
        i.category = "weapons".into();
        i.active = false;
    });
    f
}

#[test]
fn filters_select_by_category_activity_stock_and_visibility() {
    let f = stocked_shop();
    let list = |filter: ItemFilter| names(&f.shop.list_items(G, &filter).unwrap()).join(",");
    assert_eq!(list(ItemFilter::all()), "Apple,Bread,Crown,Dagger");
    assert_eq!(list(ItemFilter::shop()), "Apple,Bread");
    assert_eq!(list(ItemFilter::default()), "Apple,Dagger");
    assert_eq!(list(ItemFilter::all().in_category("FOOD")), "Apple,Bread");
    let in_stock_only = ItemFilter {
        include_out_of_stock: false,
        ..ItemFilter::all()
    };
    assert_eq!(list(in_stock_only), "Apple,Crown,Dagger");
}

#[test]
fn categories_are_distinct_and_sorted() {
    let f = stocked_shop();
    assert_eq!(
        f.shop.categories(G, &ItemFilter::all()).unwrap(),
        vec!["food", "Royal", "weapons"]
    );
    assert_eq!(
        f.shop.categories(G, &ItemFilter::shop()).unwrap(),
        vec!["food"]
    );
}

#[test]
fn search_finds_prefix_matches_first_and_hides_what_is_not_for_sale() {
    let f = fixture();
    f.create("Golden Ticket", 1, -1);
    f.create("Ticket", 1, -1);
    f.create("gold bar", 1, -1);
    let hidden = f.create("Gold Crown", 1, -1);
    f.shop
        .bulk_update(G, &[hidden.id], BulkAction::Hide, &admin())
        .unwrap();
    let found = f.shop.search_items(G, "GOLD", 10).unwrap();
    assert_eq!(names(&found), vec!["gold bar", "Golden Ticket"]);
    let found = f.shop.search_items(G, "ticket", 10).unwrap();
    assert_eq!(names(&found), vec!["Ticket", "Golden Ticket"]);
    assert_eq!(f.shop.search_items(G, "", 1).unwrap().len(), 1);
    let all = f.shop.search_all_items(G, "gold", 100).unwrap();
    assert_eq!(names(&all), vec!["gold bar", "Gold Crown", "Golden Ticket"]);
}

#[test]
fn exact_name_lookup_ignores_case_and_spaces() {
    let f = fixture();
    let item = f.create("Golden Ticket", 1, -1);
    assert_eq!(
        f.shop.find_item_by_name(G, " golden ticket ").unwrap(),
        Some(item)
    );
    assert_eq!(f.shop.find_item_by_name(G, "golden").unwrap(), None);
}

#[test]
fn items_of_one_guild_are_invisible_to_another() {
    let f = fixture();
    f.create("Ticket", 1, -1);
    assert!(f
        .shop
        .list_items(GuildId(2), &ItemFilter::all())
        .unwrap()
        .is_empty());
    assert_eq!(refusal(f.shop.get_item(GuildId(2), 1)), "Item 1 not found.");
}
