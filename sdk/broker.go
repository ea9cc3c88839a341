package sdk

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/custodyhq/custody/internal/batchmsg"
)

// BrokerTransport publishes each batch as one Watermill message in Custody's
// broker format (NDJSON of events, see the custody-* metadata) to Topic, for
// Custody's ingest pipeline to consume. Publisher is any Watermill
// publisher: NATS JetStream (watermill-nats), which Custody uses by default,
// or Kafka (watermill-kafka) or anything else the pipeline is configured to
// read. The publish is synchronous, so a nil error means the broker has the
// batch; a publish error is retried. The client does not close Publisher.
//
// The broker path skips the HTTP ingest's checks: keep Config.SkipTaxonomy
// off so that events are validated before they are published.
type BrokerTransport struct {
	Publisher message.Publisher
	// Topic is the topic (NATS subject, Kafka topic) the pipeline reads.
	Topic string
	// Source names the publisher in the message metadata as
	// "sdk/<Source>". Default: the first event's source (Config.Source
	// unless the event names its own).
	Source string
}

// Validate checks Publisher and Topic.
func (t *BrokerTransport) Validate() error {
	var errs []error
	if t.Publisher == nil {
		errs = append(errs, errors.New("sdk: BrokerTransport.Publisher is required"))
	}
	if strings.TrimSpace(t.Topic) == "" {
		errs = append(errs, errors.New("sdk: BrokerTransport.Topic is required"))
	}
	return errors.Join(errs...)
}

// Send publishes the batch as one message.
func (t *BrokerTransport) Send(ctx context.Context, events []*Event) (Result, error) {
	if err := t.Validate(); err != nil {
		return Result{}, Permanent(err)
	}
	if len(events) == 0 {
		return Result{}, nil
	}
	source := t.Source
	if source == "" {
		source = events[0].Source
	}
	msg, err := batchmsg.Encode(events, "sdk/"+source)
	if err != nil {
		return Result{}, Permanent(err)
	}
	msg.SetContext(ctx)
	if err := t.Publisher.Publish(t.Topic, msg); err != nil {
		return Result{}, &SendError{Err: fmt.Errorf("publish to %q: %w", t.Topic, err), Retryable: true}
	}
	return Result{Accepted: len(events)}, nil
}
