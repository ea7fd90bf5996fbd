//! Orders as the POS shows them, decoded from the HubRise JSON kept in the store.
//!
//! The store keeps HubRise's JSON unchanged (times with their offset, money as strings); this
//! typed view is decoded when read ([`decode`](decode/index.html): a field that does not decode
//! is left empty and logged rather than losing the order, the JSON stays exactly as HubRise
//! sent it), and the inbox's rows are summarised from columns computed when it is written
//! (`summary`).

mod decode;
mod query;
mod status;
mod summary;
mod view;

pub use decode::{OrderHead, StoredOrder, decode};
pub use query::{OrderCursor, OrderFilter};
pub use status::OrderStatus;
pub use summary::{
    OrderSummary, SummaryColumns, SummaryRow, order_summary, summarize, summary_columns,
};
pub use view::{
    Order, OrderCharge, OrderCustomer, OrderDiscount, OrderItem, OrderOption, OrderPayment,
};
