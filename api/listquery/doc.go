// Package listquery implements the list side of Ratchet's REST API: the
// Refine.dev simple-rest query convention (_start, _end, _sort, _order,
// field filters with _ne, _like, _gte and _lte, q, and limit/offset),
// parsed into a core.ListQuery against a per-resource allow-list of
// fields, and the X-Total-Count and Content-Range headers of the answer.
//
// The server parses with Parse and sets the headers with SetHeaders; the
// storage layer then turns the query into SQL, checking the fields again.
package listquery
