//! Paging requests and results, for offset pages (page/size/sort) and cursor pages
//! (message history, newest first).

use crate::error::{Error, Result};
use crate::ids::MessageId;

/// The largest page anyone may ask for; larger sizes are clamped to it.
pub const MAX_PAGE_SIZE: u32 = 1000;
/// The page size used when none is given.
pub const DEFAULT_PAGE_SIZE: u32 = 25;

/// Fields a list may be sorted by. Each list accepts a subset (see
/// [`PageRequest::parse`]); stores map them to columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Id,
    Name,
    DisplayName,
    CreatedTime,
}

impl SortField {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "id" => Some(SortField::Id),
            "name" => Some(SortField::Name),
            "display_name" | "displayName" => Some(SortField::DisplayName),
            "created_time" | "createdTime" | "created_at" | "createdAt" => {
                Some(SortField::CreatedTime)
            }
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    pub field: SortField,
    pub descending: bool,
}

/// An offset page request: 0-based page number, page size and sort order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub page: u32,
    pub size: u32,
    pub sort: Vec<SortKey>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 0,
            size: DEFAULT_PAGE_SIZE,
            sort: Vec::new(),
        }
    }
}

impl PageRequest {
    /// Builds a page request from raw query values. `sort` entries are Spring style
    /// (`name,desc`); `allowed` lists the fields this list can sort by. Sizes above
    /// [`MAX_PAGE_SIZE`] are clamped, not refused.
    pub fn parse(
        page: Option<i64>,
        size: Option<i64>,
        sort: &[String],
        allowed: &[SortField],
    ) -> Result<Self> {
        let page = match page {
            None => 0,
            Some(p) if p < 0 => return Err(Error::invalid("page", "must be 0 or more")),
            Some(p) if p > 1_000_000 => return Err(Error::invalid("page", "is too large")),
            Some(p) => p as u32,
        };
        let size = match size {
            None => DEFAULT_PAGE_SIZE,
            Some(s) if s < 1 => return Err(Error::invalid("size", "must be 1 or more")),
            Some(s) => s.min(MAX_PAGE_SIZE as i64) as u32,
        };
        let mut keys = Vec::new();
        for entry in sort {
            let mut parts = entry.split(',').map(str::trim).filter(|p| !p.is_empty());
            let Some(field) = parts.next() else { continue };
            let field = SortField::parse(field)
                .filter(|f| allowed.contains(f))
                .ok_or_else(|| Error::invalid("sort", format!("cannot sort by '{field}'")))?;
            let descending = match parts.next().map(|d| d.to_ascii_lowercase()) {
                None => false,
                Some(d) if d == "asc" => false,
                Some(d) if d == "desc" => true,
                Some(d) => {
                    return Err(Error::invalid(
                        "sort",
                        format!("direction must be asc or desc, not '{d}'"),
                    ));
                }
            };
            keys.push(SortKey { field, descending });
        }
        Ok(Self {
            page,
            size,
            sort: keys,
        })
    }

    pub fn offset(&self) -> u64 {
        self.page as u64 * self.size as u64
    }
}

/// One page of an offset-paged list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub request: PageRequest,
    pub total: u64,
}

impl<T> Page<T> {
    pub fn total_pages(&self) -> u64 {
        self.total.div_ceil(self.request.size.max(1) as u64)
    }
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            request: self.request,
            total: self.total,
        }
    }
}

/// Which way a cursor page goes from its cursor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CursorDirection {
    /// Older messages than the cursor (the default, newest first).
    #[default]
    Older,
    /// Newer messages than the cursor (still returned newest first).
    Newer,
}

/// A cursor page request over messages. Results are always newest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CursorRequest {
    pub size: u32,
    /// Exclusive bound: with `Older`, only ids below it; with `Newer`, only above.
    pub cursor: Option<MessageId>,
    pub direction: CursorDirection,
}

impl Default for CursorRequest {
    fn default() -> Self {
        Self {
            size: DEFAULT_PAGE_SIZE,
            cursor: None,
            direction: CursorDirection::Older,
        }
    }
}

/// One page of a cursor-paged list.
#[derive(Debug, Clone, PartialEq)]
pub struct CursorPage<T> {
    pub items: Vec<T>,
    /// Items matching the filter in total (all pages).
    pub total: u64,
    /// True when there are more items beyond this page in the page's direction.
    pub has_more: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[SortField] = &[SortField::Id, SortField::Name, SortField::CreatedTime];

    #[test]
    fn sizes_are_clamped_and_checked() {
        let p = PageRequest::parse(None, Some(5000), &[], ALL).unwrap();
        assert_eq!(p.size, MAX_PAGE_SIZE);
        assert!(PageRequest::parse(None, Some(0), &[], ALL).is_err());
        assert!(PageRequest::parse(Some(-1), None, &[], ALL).is_err());
        assert_eq!(
            PageRequest::parse(None, None, &[], ALL).unwrap().size,
            DEFAULT_PAGE_SIZE
        );
    }

    #[test]
    fn sort_is_spring_style() {
        let p = PageRequest::parse(None, None, &["name,desc".into(), "id".into()], ALL).unwrap();
        assert_eq!(
            p.sort,
            vec![
                SortKey {
                    field: SortField::Name,
                    descending: true
                },
                SortKey {
                    field: SortField::Id,
                    descending: false
                }
            ]
        );
        assert!(PageRequest::parse(None, None, &["password".into()], ALL).is_err());
        assert!(PageRequest::parse(None, None, &["name,sideways".into()], ALL).is_err());
        assert!(PageRequest::parse(None, None, &["display_name".into()], ALL).is_err());
    }

    #[test]
    fn total_pages_rounds_up() {
        let page: Page<()> = Page {
            items: vec![],
            request: PageRequest {
                page: 0,
                size: 10,
                sort: vec![],
            },
            total: 21,
        };
        assert_eq!(page.total_pages(), 3);
    }
}
