//! The read-back's walk through `GET /location/orders`, kept between cycles (design D22).
//!
//! A read-back lists at most [`super::read_back::MAX_LIST_PAGES`] pages. A location that holds
//! more open orders than that is listed through over several read-backs, page after page from
//! where the last one stopped. Until then the open orders the pages did not reach are not read on
//! their own: that cost one request per order and per poll interval, 96 % of a soak's requests
//! with 1,500 open orders. The listing's order (newest or oldest first) does not matter: what the
//! walk has seen is kept by id.

use std::collections::HashSet;

/// One walk through the listing, from the oldest order open when it began.
#[derive(Debug)]
pub(super) struct ListingPass {
    /// The `after` filter of every page: the oldest open order's creation when the walk began.
    pub after: String,
    /// Where the next page starts (`X-Cursor-Next` of the last page read).
    pub cursor: Option<String>,
    /// The open orders this device held when the walk began: once it ends, those it did not
    /// list (and that are still open) are read on their own.
    pub expected: HashSet<String>,
    /// The orders the walk listed so far.
    pub seen: HashSet<String>,
}

impl ListingPass {
    pub fn new<'a>(after: String, open: impl IntoIterator<Item = &'a str>) -> Self {
        Self {
            after,
            cursor: None,
            expected: open.into_iter().map(str::to_owned).collect(),
            seen: HashSet::new(),
        }
    }

    /// The orders it expected and did not list.
    pub fn unseen(&self) -> impl Iterator<Item = &str> {
        self.expected
            .iter()
            .filter(|id| !self.seen.contains(*id))
            .map(String::as_str)
    }
}
