use std::collections::HashMap;

/// Stock kept in memory per variant.
pub struct Store {
    stock: HashMap<String, i32>,
}

// AI: implement the handler for the rpc that reserves stock for an order (all or nothing).
pub fn reserve(store: &mut Store) {}

/// Our domain view of a variant's stock.
pub struct Stock {
    pub variant: String,
    pub available: i32,
}

// AI: convert the service's per-warehouse stock message into a Stock.
pub fn to_stock() {}
