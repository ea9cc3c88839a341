package event

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

// benchNDJSON renders n `data.collected` events as one NDJSON body, shaped
// as test/e2e's ndjsonBodies renders them (one person per 20 events).
func benchNDJSON(n int) []byte {
	base := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	for i := range n {
		person := i / 20
		fmt.Fprintf(&buf, `{"id":%q,"type":"data.collected","source":"checkout","time":%q,"tenant":%q,`+
			`"subject":{"identifiers":[{"kind":"email","value":"p%d@example.com"},{"kind":"customer_id","value":"C-%d"}]},`+
			`"data":{"elements":[{"name":"email","category":"contact.email","value":"p%d@example.com"},{"name":"ip","category":"online.ip_address"}],`+
			`"origin":{"kind":"consumer","name":"checkout"},"purposes":["order_fulfilment"],"system":"orders-db"}}`+"\n",
			uuid.NewString(), base.Add(time.Duration(i)*time.Second).Format(time.RFC3339), "default", person, person, person)
	}
	return buf.Bytes()
}

// BenchmarkDecodeBatchNDJSON is HTTP validation of one ingest request as the
// end-to-end benchmark sends it: 10,000 events, the real taxonomy, one core.
func BenchmarkDecodeBatchNDJSON(b *testing.B) {
	tax, err := taxonomy.Load(schema.Taxonomy())
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Vocabulary: tax, Now: func() time.Time { return testNow }}
	const events = 10000
	body := benchNDJSON(events)
	if rs := DecodeBatch(body, ContentTypeNDJSON, opts); len(rs) != events || rs[0].Event == nil {
		b.Fatalf("%d results, first %+v", len(rs), rs[0].Errors)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		DecodeBatch(body, ContentTypeNDJSON, opts)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*events), "ns/event")
}
