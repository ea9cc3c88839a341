package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
)

// Errors callers can branch on.
var (
	// ErrPublishTimeout: the brokers did not acknowledge a publish within
	// PublishTimeout. The messages may still be stored; retrying is safe
	// because the log keeps one event per id.
	ErrPublishTimeout = errors.New("kafka: publish not acknowledged within the publish timeout")
	// ErrClosed: Publish after Close.
	ErrClosed = errors.New("kafka: publisher closed")
	// ErrUnknownTopic: Subscribe to a topic other than Config.Topic.
	ErrUnknownTopic = errors.New("kafka: the subscriber reads only its configured topic")
)

// Publisher is a Watermill publisher to Kafka. Publish returns nil only
// once the brokers acknowledged every message: sarama's SyncProducer with
// RequiredAcks=WaitForAll (every in-sync replica holds it) and the
// idempotent producer (its own retries neither duplicate nor reorder a
// partition's messages). The messages of one call are sent together, in
// parallel across partitions, in order within one. A message carrying
// broker.MetaPartitionKey goes to the partition of that key (see
// SubjectKeys); others go to a partition by Kafka key or at random.
// Nothing is provisioned on publish (EnsureTopic first).
//
// It implements message.Publisher itself rather than wrapping
// watermill-kafka's, which sends a call's messages one at a time (one
// acknowledged round trip each) and cannot bound a publish in time.
type Publisher struct {
	producer sarama.SyncProducer
	timeout  time.Duration
	log      *slog.Logger
	closed   atomic.Bool
	sends    sync.WaitGroup
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher connects a publisher to cfg.Brokers.
func NewPublisher(cfg Config, log *slog.Logger) (*Publisher, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sc, err := cfg.sarama(rolePublisher)
	if err != nil {
		return nil, err
	}
	producer, err := sarama.NewSyncProducer(cfg.Brokers, sc)
	if err != nil {
		return nil, fmt.Errorf("kafka: connect publisher to %v: %w", cfg.Brokers, err)
	}
	return &Publisher{producer: producer, timeout: cfg.PublishTimeout, log: log.With("component", "kafka", "role", rolePublisher)}, nil
}

// Publish sends msgs to topic and waits for the acknowledgement of all of
// them, at most PublishTimeout (then ErrPublishTimeout). On any error some
// messages may have been stored and others not.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	if p.closed.Load() {
		return ErrClosed
	}
	if len(msgs) == 0 {
		return nil
	}
	pms := make([]*sarama.ProducerMessage, len(msgs))
	for i, m := range msgs {
		pm, err := (marshaler{}).Marshal(topic, m)
		if err != nil {
			return err
		}
		pms[i] = pm
	}
	done := make(chan error, 1)
	p.sends.Add(1)
	go func() {
		defer p.sends.Done()
		done <- p.producer.SendMessages(pms)
	}()
	timer := time.NewTimer(p.timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("kafka: publish %d messages to %s: %w", len(msgs), topic, sendError(err))
		}
		return nil
	case <-timer.C:
		// The send goes on in the background (sarama bounds it by its
		// retries); its outcome no longer matters to the caller, who
		// retries the whole request.
		return fmt.Errorf("kafka: publish %d messages to %s after %s: %w", len(msgs), topic, p.timeout, ErrPublishTimeout)
	}
}

// Close waits for sends in progress, then closes the producer.
func (p *Publisher) Close() error {
	if p.closed.Swap(true) {
		return nil
	}
	p.sends.Wait()
	if err := p.producer.Close(); err != nil {
		return fmt.Errorf("kafka: close publisher: %w", err)
	}
	return nil
}

// sendError makes sarama's ProducerErrors (a list that does not unwrap)
// one error wrapping the distinct causes.
func sendError(err error) error {
	var pe sarama.ProducerErrors
	if !errors.As(err, &pe) || len(pe) == 0 {
		return err
	}
	seen := map[string]bool{}
	var causes []error
	for _, e := range pe {
		if e == nil || e.Err == nil || seen[e.Err.Error()] {
			continue
		}
		seen[e.Err.Error()] = true
		causes = append(causes, e.Err)
	}
	return fmt.Errorf("%d of the messages failed: %w", len(pe), errors.Join(causes...))
}

// NewSubscriber returns a Watermill subscriber reading cfg.Topic as a
// member of cfg.ConsumerGroup (watermill-kafka over sarama's consumer
// group). Kafka assigns each partition to one member of the group, so
// replicas share the work, and each partition is delivered in order: its
// next message is handed over only after the previous one was acked.
//
// Offsets: a message's offset is marked only after the pipeline acked it,
// and marked offsets are committed every second and when the member leaves
// the group. A nacked message is handed over again after NackDelay; one
// never acked (a crash, a lost session, a rebalance, Close) is delivered
// again from the last committed offset, to this or another member. So
// delivery is at least once, and a batch may be appended twice, which the
// log makes harmless (one event per id).
//
// At most MaxInFlight messages per subscription are with the pipeline and
// not yet acked or nacked. Subscribing to a topic other than cfg.Topic
// fails with ErrUnknownTopic.
func NewSubscriber(cfg Config, log *slog.Logger) (message.Subscriber, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	sc, err := cfg.sarama(roleSubscriber)
	if err != nil {
		return nil, err
	}
	sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{
		Brokers:               cfg.Brokers,
		Unmarshaler:           marshaler{},
		OverwriteSaramaConfig: sc,
		ConsumerGroup:         cfg.ConsumerGroup,
		NackResendSleep:       cfg.NackDelay,
		ReconnectRetrySleep:   time.Second,
	}, watermill.NewSlogLogger(log.With("component", "kafka", "role", roleSubscriber)))
	if err != nil {
		return nil, fmt.Errorf("kafka: subscriber: %w", err)
	}
	return &subscriber{sub: sub, cfg: cfg, done: make(chan struct{})}, nil
}

// subscriber bounds the messages in flight: watermill-kafka hands over the
// head of every claimed partition at once, and the router starts a handler
// for each message it receives.
type subscriber struct {
	sub  *wmkafka.Subscriber
	cfg  Config
	done chan struct{}
	once sync.Once
}

func (s *subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic != s.cfg.Topic {
		return nil, fmt.Errorf("%w: reads %s in group %s, not %s", ErrUnknownTopic, s.cfg.Topic, s.cfg.ConsumerGroup, topic)
	}
	in, err := s.sub.Subscribe(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("kafka: subscribe to %s in group %s: %w", topic, s.cfg.ConsumerGroup, err)
	}
	out := make(chan *message.Message)
	go s.forward(in, out)
	return out, nil
}

// forward passes messages from in to out, at most MaxInFlight of them not
// yet acked or nacked, until in closes or Close starts. A message taken
// from in but not passed on is never acked, so Kafka delivers it again.
func (s *subscriber) forward(in <-chan *message.Message, out chan<- *message.Message) {
	defer close(out)
	slots := make(chan struct{}, s.cfg.MaxInFlight)
	for m := range in {
		select {
		case slots <- struct{}{}:
		case <-s.done:
			return
		}
		select {
		case out <- m:
		case <-s.done:
			return
		}
		go func() {
			select {
			case <-m.Acked():
			case <-m.Nacked():
			}
			<-slots
		}()
	}
}

// Close leaves the group (committing the offsets marked so far) and ends
// every subscription.
func (s *subscriber) Close() error {
	s.once.Do(func() { close(s.done) })
	if err := s.sub.Close(); err != nil {
		return fmt.Errorf("kafka: close subscriber: %w", err)
	}
	return nil
}
