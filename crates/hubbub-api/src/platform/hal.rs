//! HAL collections: offset pages (`page`/`size`/`sort`, Spring style metadata) and
//! cursor pages of messages (`size`/`start`/`next`/`relation`, cursors in the links).

use super::error::ApiError;
use super::extract::{LinkBase, Query};
use super::jobs::ApplicationJobResource;
use super::moderation::ChannelRestrictionResource;
use super::resources::*;
use hubbub_core::ids::MessageId;
use hubbub_core::paging::{
    CursorDirection, CursorPage, CursorRequest, MAX_PAGE_SIZE, Page, PageRequest, SortField,
};
use serde::Serialize;
use utoipa::ToSchema;

/// Offset page metadata.
#[derive(Debug, Serialize, ToSchema)]
pub struct PageMetadata {
    pub size: u32,
    pub total_elements: u64,
    pub total_pages: u64,
    pub number: u32,
}

/// Cursor page metadata. `start` and `next` are message ids, as strings.
#[derive(Debug, Serialize, ToSchema)]
pub struct CursorPageMetadata {
    pub size: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
    pub total: u64,
}

macro_rules! paged {
    ($name:ident, $embedded:ident, $rel:ident, $item:ty, $meta:ty) => {
        #[derive(Debug, Serialize, ToSchema)]
        pub struct $embedded {
            pub $rel: Vec<$item>,
        }

        #[derive(Debug, Serialize, ToSchema)]
        pub struct $name {
            /// Absent when the page is empty.
            #[serde(skip_serializing_if = "Option::is_none")]
            pub _embedded: Option<$embedded>,
            pub page: $meta,
            #[schema(value_type = Object)]
            pub _links: Links,
        }

        impl $name {
            pub fn from_parts(items: Vec<$item>, page: $meta, links: Links) -> Self {
                Self {
                    _embedded: (!items.is_empty()).then(|| $embedded { $rel: items }),
                    page,
                    _links: links,
                }
            }
        }
    };
}

paged!(
    PagedModelChannelRestrictionResource,
    ChannelRestrictionResourceEmbedded,
    restrictions,
    ChannelRestrictionResource,
    PageMetadata
);
paged!(
    PagedModelChatUserResource,
    ChatUserResourceEmbedded,
    users,
    ChatUserResource,
    PageMetadata
);
paged!(
    PagedModelChannelResource,
    ChannelResourceEmbedded,
    channels,
    ChannelResource,
    PageMetadata
);
paged!(
    PagedModelChannelMembershipResource,
    ChannelMembershipResourceEmbedded,
    memberships,
    ChannelMembershipResource,
    PageMetadata
);
paged!(
    PagedModelApplicationJobResource,
    ApplicationJobResourceEmbedded,
    jobs,
    ApplicationJobResource,
    PageMetadata
);
paged!(
    CursorPagedModelMessageResource,
    MessageResourceEmbedded,
    messages,
    MessageResource,
    CursorPageMetadata
);
paged!(
    PagedModelChannelInviteResource,
    ChannelInviteResourceEmbedded,
    invites,
    ChannelInviteResource,
    PageMetadata
);
paged!(
    PagedModelMessageReadReceiptResource,
    MessageReadReceiptResourceEmbedded,
    receipts,
    MessageReadReceiptResource,
    PageMetadata
);
paged!(
    PagedModelMessageReadReceiptSummaryResource,
    MessageReadReceiptSummaryResourceEmbedded,
    summaries,
    MessageReadReceiptSummaryResource,
    PageMetadata
);
paged!(
    PagedModelChatUserSessionResource,
    ChatUserSessionResourceEmbedded,
    sessions,
    ChatUserSessionResource,
    PageMetadata
);
paged!(
    PagedModelChatSessionResource,
    ChatSessionResourceEmbedded,
    sessions,
    ChatSessionResource,
    PageMetadata
);
paged!(
    PagedModelMessageResource,
    PagedMessageResourceEmbedded,
    messages,
    MessageResource,
    PageMetadata
);
paged!(
    CursorPagedModelNotificationResource,
    NotificationResourceEmbedded,
    notifications,
    NotificationResource,
    CursorPageMetadata
);

/// Parses `page`, `size` and `sort` (repeatable) of an offset-paged list.
pub fn page_request(query: &Query, allowed: &[SortField]) -> Result<PageRequest, ApiError> {
    Ok(PageRequest::parse(
        query.int("page")?,
        query.int("size")?,
        &query.all("sort"),
        allowed,
    )?)
}

/// Renders an offset page with self/first/prev/next/last links.
pub fn offset_page<T, R>(
    page: Page<T>,
    base: &LinkBase,
    query: &Query,
    render: impl Fn(&T) -> R,
) -> (Vec<R>, PageMetadata, Links) {
    let total_pages = page.total_pages();
    let number = page.request.page;
    let size = page.request.size;
    let href = |n: u64| {
        let mut q: Vec<(String, String)> = query
            .0
            .iter()
            .filter(|(k, _)| k != "page" && k != "size")
            .cloned()
            .collect();
        q.push(("page".into(), n.to_string()));
        q.push(("size".into(), size.to_string()));
        Link {
            href: format!("{}?{}", base.path, encode(&q)),
        }
    };
    let mut links = Links::new();
    links.insert("self".into(), href(number as u64));
    if total_pages > 0 {
        links.insert("first".into(), href(0));
        links.insert("last".into(), href(total_pages - 1));
    }
    if number > 0 {
        links.insert("prev".into(), href(number as u64 - 1));
    }
    if (number as u64) + 1 < total_pages {
        links.insert("next".into(), href(number as u64 + 1));
    }
    let items = page.items.iter().map(render).collect();
    (
        items,
        PageMetadata {
            size,
            total_elements: page.total,
            total_pages,
            number,
        },
        links,
    )
}

fn encode(pairs: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .finish()
}

/// Parses `size`, `start`, `next` and `relation` of a cursor-paged list.
///
/// * no cursor: the newest messages;
/// * `relation=NEXT&next=N`: messages older than N;
/// * `relation=PREVIOUS&next=N` (or `start=N`): messages newer than N;
/// * `relation=SELF&start=S`: messages from S (inclusive) towards older.
pub fn cursor_request(query: &Query) -> Result<CursorRequest, ApiError> {
    let size = match query.int("size")? {
        None => hubbub_core::paging::DEFAULT_PAGE_SIZE,
        Some(s) if s < 1 => {
            return Err(ApiError::bad_request(
                "query parameter 'size' must be 1 or more",
            ));
        }
        Some(s) => s.min(MAX_PAGE_SIZE as i64) as u32,
    };
    let start = query.int("start")?;
    let next = query.int("next")?;
    let relation = query.get("relation").map(|r| r.to_ascii_uppercase());
    let (cursor, direction) = match relation.as_deref() {
        None | Some("SELF") => match (next, start) {
            (Some(n), _) => (Some(n), CursorDirection::Older),
            (None, Some(s)) => (Some(s.saturating_add(1)), CursorDirection::Older),
            (None, None) => (None, CursorDirection::Older),
        },
        Some("NEXT") => (next.or(start), CursorDirection::Older),
        Some("PREVIOUS") => (next.or(start), CursorDirection::Newer),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "query parameter 'relation' must be SELF, NEXT or PREVIOUS, not '{other}'"
            )));
        }
    };
    Ok(CursorRequest {
        size,
        cursor: cursor.map(MessageId),
        direction,
    })
}

/// Renders a cursor page of messages, newest first, with self/next/prev links.
pub fn message_page(
    page: CursorPage<hubbub_core::model::MessageView>,
    request: &CursorRequest,
    base: &LinkBase,
    query: &Query,
) -> CursorPagedModelMessageResource {
    let first = page.items.first().map(|m| m.message.id.0);
    let last = page.items.last().map(|m| m.message.id.0);
    let (meta, links) = cursor_parts(first, last, page.has_more, page.total, request, base, query);
    let items: Vec<MessageResource> = page
        .items
        .iter()
        .map(|m| MessageResource::new(m, base))
        .collect();
    CursorPagedModelMessageResource::from_parts(items, meta, links)
}

/// The metadata and self/next/prev links of a cursor page whose items (newest first)
/// run from id `first` to id `last`.
pub fn cursor_parts(
    first: Option<i64>,
    last: Option<i64>,
    has_more: bool,
    total: u64,
    request: &CursorRequest,
    base: &LinkBase,
    query: &Query,
) -> (CursorPageMetadata, Links) {
    let older_exists = match request.direction {
        CursorDirection::Older => has_more,
        // Paging towards newer from a cursor: older items exist (at least the cursor).
        CursorDirection::Newer => request.cursor.is_some(),
    };
    let newer_exists = match request.direction {
        CursorDirection::Older => request.cursor.is_some(),
        CursorDirection::Newer => has_more,
    };
    let href = |extra: &[(&str, String)]| {
        let mut q: Vec<(String, String)> = query
            .0
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "size" | "start" | "next" | "relation"))
            .cloned()
            .collect();
        q.push(("size".into(), request.size.to_string()));
        q.extend(extra.iter().map(|(k, v)| (k.to_string(), v.clone())));
        Link {
            href: format!("{}?{}", base.path, encode(&q)),
        }
    };
    let mut links = Links::new();
    match first {
        Some(f) => {
            links.insert(
                "self".into(),
                href(&[("start", f.to_string()), ("relation", "SELF".into())]),
            );
        }
        None => {
            links.insert("self".into(), href(&[]));
        }
    }
    let mut next = None;
    if let (Some(f), Some(l)) = (first, last) {
        if older_exists {
            next = Some(l.to_string());
            links.insert(
                "next".into(),
                href(&[
                    ("start", f.to_string()),
                    ("next", l.to_string()),
                    ("relation", "NEXT".into()),
                ]),
            );
        }
        if newer_exists {
            links.insert(
                "prev".into(),
                href(&[
                    ("start", f.to_string()),
                    ("next", f.to_string()),
                    ("relation", "PREVIOUS".into()),
                ]),
            );
        }
    }
    (
        CursorPageMetadata {
            size: request.size,
            start: first.map(|f| f.to_string()),
            next,
            total,
        },
        links,
    )
}
