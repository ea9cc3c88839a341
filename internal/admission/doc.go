// Package admission bounds how many reads of personal data run at once, so
// that the read side and the ingest pipeline share one machine (and, with
// the embedded engine, one in-process ClickHouse and its connections)
// without the reads taking all of it.
//
// A Limiter admits at most Config.MaxConcurrent reads at once. A read that
// finds them all taken waits, in arrival order, in a queue of at most
// Config.MaxQueued reads for at most Config.MaxWait (and never beyond its
// context). A read that finds the queue full, or that waited MaxWait, is
// refused with a *RefusedError, which wraps ErrOverloaded and says when to
// retry; the API answers it with a stable error (GraphQL OVERLOADED, HTTP
// 503 with Retry-After). Refusing early is the point: under a flood, a
// read that would queue behind hundreds of others answers too late to be
// useful, and every read running at once slows the pipeline's inserts.
//
// What a read is, and what it may do once admitted (the ClickHouse
// settings it runs with), is decided by the caller (internal/node wraps
// the read side's ports); this package only counts. Its metrics are
// custody_reads_in_flight, custody_reads_waiting,
// custody_read_wait_seconds and custody_reads_refused_total by reason.
package admission
