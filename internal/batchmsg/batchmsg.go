// Package batchmsg is the broker message format of Custody's ingest
// pipeline: one Watermill message carries a batch of validated events (one
// publish per batch, not per event: a JetStream publish is a round trip).
// Versioned by metadata: FormatV1 is NDJSON of the events' external JSON
// form, which the SDK's broker transport publishes; FormatV2 (entry.go) is
// their binary split form, which the HTTP ingest publishes. The pipeline
// reads both.
package batchmsg

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custodyhq/custody/internal/event"
)

// Metadata keys.
const (
	// MetaFormat names the payload format; the only one is FormatV1.
	MetaFormat = "custody-format"
	// MetaCount is the number of events in the payload.
	MetaCount = "custody-events"
	// MetaSource says who published (e.g. "http", "sdk/<service>").
	MetaSource = "custody-source"
	// MetaDeliveries is set by a subscriber that knows it: how many times
	// the broker has delivered this message (1 the first time).
	MetaDeliveries = "custody-deliveries"
	// FormatV1 is NDJSON of events in the external JSON form. FormatV2 is
	// in entry.go.
	FormatV1 = "events-ndjson/v1"
)

// ErrFormat means a message is not a Custody event batch this version can
// read; such a message is poison, retrying cannot help.
var ErrFormat = errors.New("batchmsg: not a custody event batch")

// Encode builds one message holding events. The message UUID is random: the
// events' own ids are the idempotency keys.
func Encode(events []*event.Event, source string) (*message.Message, error) {
	var buf bytes.Buffer
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return nil, fmt.Errorf("batchmsg: encode event %s: %w", e.ID, err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	msg := message.NewMessage(watermill.NewUUID(), buf.Bytes())
	msg.Metadata.Set(MetaFormat, FormatV1)
	msg.Metadata.Set(MetaCount, strconv.Itoa(len(events)))
	msg.Metadata.Set(MetaSource, source)
	return msg, nil
}

// Decode reads the events of a message. Events were validated before they
// were published, so only their structure is checked here (taxonomy terms
// may have changed since; the log keeps what was accepted).
func Decode(msg *message.Message) ([]*event.Event, error) {
	switch f := msg.Metadata.Get(MetaFormat); f {
	case FormatV1:
	case FormatV2:
		entries, err := DecodeEntries(msg)
		if err != nil {
			return nil, err
		}
		out := make([]*event.Event, len(entries))
		for i := range entries {
			if out[i], err = entries[i].Event(); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrFormat, err)
			}
		}
		return out, nil
	default:
		return nil, fmt.Errorf("%w: format %q", ErrFormat, f)
	}
	var out []*event.Event
	for i, line := range bytes.Split(msg.Payload, []byte{'\n'}) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		e, err := event.DecodeStored(line)
		if err != nil {
			return nil, fmt.Errorf("%w: event %d: %w", ErrFormat, i, err)
		}
		out = append(out, e)
	}
	if n := msg.Metadata.Get(MetaCount); n != strconv.Itoa(len(out)) {
		return nil, fmt.Errorf("%w: metadata says %s events, payload has %d", ErrFormat, n, len(out))
	}
	return out, nil
}
