package kafka

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/IBM/sarama"

	"github.com/custodyhq/custody/internal/tlsclient"
)

// Defaults of Config.
const (
	DefaultTopic             = "custody.events"
	DefaultConsumerGroup     = "custody-ingest"
	DefaultPartitions        = 12
	DefaultReplicationFactor = 1
	DefaultRetention         = 7 * 24 * time.Hour
	DefaultClientID          = "custody"
	// DefaultVersion is the Kafka protocol level the client speaks. 2.3.0
	// is the newest level exercised against a Kafka-protocol broker here
	// (kfake; see doc.go for why newer levels were not), and every broker
	// from 2.3 to 4.x accepts it (4.0 dropped only levels before 2.1).
	DefaultVersion        = "2.3.0"
	DefaultPublishTimeout = 10 * time.Second
	DefaultNackDelay      = time.Second
	DefaultMaxInFlight    = 4
	// DefaultMaxMessageBytes caps one message's payload: under Kafka's
	// default 1 MB (message.max.bytes, max.request.size) with room for
	// headers, including a poison reason added by the pipeline.
	DefaultMaxMessageBytes = 900_000
	// PoisonSuffix is appended to Topic to name the poison topic.
	PoisonSuffix = ".poison"
)

// headroom is what a message may carry beyond its payload (headers, the
// record and batch framing); the topic's max.message.bytes and the
// producer's limit are MaxMessageBytes plus this.
const headroom = 64 << 10

// minVersion is the oldest protocol level accepted: Kafka 4.0 refuses
// older requests (KIP-896), and brokers older than 2.1 are long out of
// support.
var minVersion = sarama.V2_1_0_0

// SASL mechanisms.
const (
	MechanismPlain       = "PLAIN"
	MechanismSCRAMSHA256 = "SCRAM-SHA-256"
	MechanismSCRAMSHA512 = "SCRAM-SHA-512"
)

// Config is how Custody reaches Kafka and what it keeps there. The zero
// value of every field but Brokers means its default.
type Config struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers []string
	// Topic holds the event batches (default custody.events); PoisonTopic
	// the batches the pipeline could not store (default Topic+".poison").
	Topic       string
	PoisonTopic string
	// ConsumerGroup is the group the pipeline's replicas join (default
	// custody-ingest): Kafka assigns each partition to one member, so the
	// replicas share the work and each partition is read in order.
	ConsumerGroup string
	// Partitions of the topics EnsureTopic creates (default 12). It also
	// is the number of partition keys the Sink spreads subjects over
	// (see SubjectKeys), so every replica must use the same value. It caps
	// how many replicas get work: a partition has one reader at a time.
	Partitions int
	// ReplicationFactor of the topics EnsureTopic creates (default 1; use
	// 3 in production, where min.insync.replicas becomes 2 so that an
	// acknowledged batch is on two brokers).
	ReplicationFactor int
	// Retention is how long the topics keep messages, read or not (default
	// 7 days). A batch not in the log by then is lost, poison batches
	// included: drain the poison topic within Retention.
	Retention time.Duration
	// ClientID names the connections in broker logs and quotas (default
	// "custody"; the role is appended).
	ClientID string
	// Version is the Kafka protocol level (default DefaultVersion, at
	// least 2.1.0).
	Version string
	TLS     TLS
	SASL    SASL
	// PublishTimeout bounds one Publish, including waiting for the
	// brokers' acknowledgement (default 10 s).
	PublishTimeout time.Duration
	// MaxMessageBytes caps one message's payload (default 900,000); the
	// Sink splits larger batches. EnsureTopic sets the topics'
	// max.message.bytes to it plus 64 KiB of headroom; raise both
	// together on an existing topic.
	MaxMessageBytes int
	// NackDelay is how long a message the pipeline gave back waits before
	// it is handed over again (default 1 s). The subscriber sleeps through
	// it, so it also delays a shutdown that gives messages back.
	NackDelay time.Duration
	// MaxInFlight caps the batches one subscriber hands to the pipeline at
	// once (default 4). Kafka delivers every claimed partition in
	// parallel; this bounds concurrent appends per process.
	MaxInFlight int
}

// TLS configures TLS to the brokers. It is on when Enabled or when any file
// is set. CAFile verifies the brokers (default: the system roots);
// CertFile and KeyFile (both or neither) authenticate Custody.
type TLS struct {
	Enabled  bool
	CAFile   string
	CertFile string
	KeyFile  string
}

func (t TLS) on() bool { return t.Enabled || t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" }

// SASL authenticates Custody to the brokers: Mechanism PLAIN (use it only
// over TLS), SCRAM-SHA-256 or SCRAM-SHA-512; "" means none. The password is
// Password, or else the contents of PasswordFile (one trailing newline
// removed). It is never logged or printed: SASL's String and LogValue
// redact it.
type SASL struct {
	Mechanism    string
	Username     string
	Password     string
	PasswordFile string
}

// String shows the mechanism and user, never the password.
func (s SASL) String() string {
	if s.Mechanism == "" {
		return "none"
	}
	return fmt.Sprintf("%s user=%s password=[redacted]", s.Mechanism, s.Username)
}

// Format makes every fmt verb print String.
func (s SASL) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue implements slog.LogValuer without the password.
func (s SASL) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes String: a Config logged as JSON (slog's JSON handler
// marshals nested structs) shows no password.
func (s SASL) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// WithDefaults returns c with every unset field at its default.
func (c Config) WithDefaults() Config {
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.Topic, DefaultTopic)
	def(&c.PoisonTopic, c.Topic+PoisonSuffix)
	def(&c.ConsumerGroup, DefaultConsumerGroup)
	def(&c.ClientID, DefaultClientID)
	def(&c.Version, DefaultVersion)
	defInt := func(n *int, v int) {
		if *n == 0 {
			*n = v
		}
	}
	defInt(&c.Partitions, DefaultPartitions)
	defInt(&c.ReplicationFactor, DefaultReplicationFactor)
	defInt(&c.MaxMessageBytes, DefaultMaxMessageBytes)
	defInt(&c.MaxInFlight, DefaultMaxInFlight)
	defDur := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	defDur(&c.Retention, DefaultRetention)
	defDur(&c.PublishTimeout, DefaultPublishTimeout)
	defDur(&c.NackDelay, DefaultNackDelay)
}

// Validate reports every invalid field of c with its defaults applied, each
// named as in the configuration file (broker.kafka.<field>).
func (c Config) Validate() error {
	c.setDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("broker.kafka.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if len(c.Brokers) == 0 {
		bad("brokers", "at least one broker is required (host:port, e.g. kafka-0:9092)")
	}
	for _, b := range c.Brokers {
		if err := checkBroker(b); err != nil {
			bad("brokers", "%q: %v", b, err)
		}
	}
	for _, t := range []struct{ field, v string }{{"topic", c.Topic}, {"poison_topic", c.PoisonTopic}} {
		if err := checkTopic(t.v); err != nil {
			bad(t.field, "%v, got %q", err, t.v)
		}
	}
	if c.Topic == c.PoisonTopic {
		bad("poison_topic", "must differ from topic %q", c.Topic)
	}
	if strings.TrimSpace(c.ConsumerGroup) == "" || strings.ContainsAny(c.ConsumerGroup, " \t\r\n") {
		bad("consumer_group", "must be a name without spaces, got %q", c.ConsumerGroup)
	}
	if c.Partitions < 1 || c.Partitions > 10_000 {
		bad("partitions", "must be 1..10000, got %d", c.Partitions)
	}
	if c.ReplicationFactor < 1 || c.ReplicationFactor > 32 {
		bad("replication_factor", "must be 1..32 (3 in production), got %d", c.ReplicationFactor)
	}
	if c.Retention < time.Minute {
		bad("retention", "must be at least 1m, got %s", c.Retention)
	}
	if v, err := sarama.ParseKafkaVersion(c.Version); err != nil {
		bad("version", "%q is not a Kafka version (e.g. %s)", c.Version, DefaultVersion)
	} else if !v.IsAtLeast(minVersion) {
		bad("version", "must be at least %s, got %s", minVersion, c.Version)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("tls.cert_file", "cert_file and key_file go together")
	}
	switch c.SASL.Mechanism {
	case "":
		if c.SASL.Username != "" || c.SASL.Password != "" || c.SASL.PasswordFile != "" {
			bad("sasl.mechanism", "is required with a username or password (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
	case MechanismPlain, MechanismSCRAMSHA256, MechanismSCRAMSHA512:
		if c.SASL.Username == "" {
			bad("sasl.username", "is required with sasl.mechanism %s", c.SASL.Mechanism)
		}
		if c.SASL.Password == "" && c.SASL.PasswordFile == "" {
			bad("sasl.password_file", "a password is required with sasl.mechanism %s (set sasl.password_file or CUSTODY_BROKER_KAFKA_PASSWORD)", c.SASL.Mechanism)
		}
	default:
		bad("sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q", c.SASL.Mechanism)
	}
	if c.PublishTimeout < 100*time.Millisecond {
		bad("publish_timeout", "must be at least 100ms, got %s", c.PublishTimeout)
	}
	if c.MaxMessageBytes < 64<<10 || c.MaxMessageBytes > 64<<20 {
		bad("max_message_bytes", "must be 65536..67108864, got %d", c.MaxMessageBytes)
	}
	if c.NackDelay < 0 {
		bad("nack_delay", "must not be negative, got %s", c.NackDelay)
	}
	if c.MaxInFlight < 1 || c.MaxInFlight > 1024 {
		bad("max_in_flight", "must be 1..1024, got %d", c.MaxInFlight)
	}
	return errors.Join(errs...)
}

func checkBroker(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return fmt.Errorf("want host:port")
	}
	if host == "" {
		return fmt.Errorf("no host")
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return fmt.Errorf("port must be 1..65535")
	}
	return nil
}

// checkTopic applies Kafka's rules for topic names.
func checkTopic(s string) error {
	if s == "" || s == "." || s == ".." || len(s) > 249 {
		return fmt.Errorf("must be 1..249 characters and not . or ..")
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return fmt.Errorf("may hold only letters, digits, '.', '_' and '-'")
		}
	}
	return nil
}

// Roles of the connections, appended to ClientID.
const (
	rolePublisher  = "publisher"
	roleSubscriber = "subscriber"
	roleAdmin      = "admin"
)

// sarama builds the client configuration of role: protocol level,
// credentials and TLS, and the producer and consumer settings the
// package's contracts rest on (see doc.go). c must have its defaults.
func (c Config) sarama(role string) (*sarama.Config, error) {
	sc := sarama.NewConfig()
	v, err := sarama.ParseKafkaVersion(c.Version)
	if err != nil {
		return nil, fmt.Errorf("kafka: version %q: %w", c.Version, err)
	}
	sc.Version = v
	sc.ClientID = c.ClientID + "-" + role
	sc.Metadata.Retry.Backoff = 500 * time.Millisecond
	if c.TLS.on() {
		tc, err := c.TLS.config()
		if err != nil {
			return nil, err
		}
		sc.Net.TLS.Enable = true
		sc.Net.TLS.Config = tc
	}
	if c.SASL.Mechanism != "" {
		if err := c.SASL.apply(sc); err != nil {
			return nil, err
		}
	}

	// Producer: a send is acknowledged only when every in-sync replica
	// holds it (WaitForAll); idempotence keeps the producer's own retries
	// from writing a batch twice or out of order within a partition, which
	// needs one request in flight per connection.
	sc.Producer.RequiredAcks = sarama.WaitForAll
	sc.Producer.Idempotent = true
	sc.Net.MaxOpenRequests = 1
	sc.Producer.Retry.Max = 10
	sc.Producer.Retry.Backoff = 200 * time.Millisecond
	sc.Producer.Return.Successes = true
	sc.Producer.Return.Errors = true
	sc.Producer.Timeout = c.PublishTimeout
	sc.Producer.MaxMessageBytes = c.MaxMessageBytes + headroom
	sc.Producer.Partitioner = newBucketPartitioner

	// Consumer: a group that has never committed starts at the oldest
	// message, so batches published before the pipeline first joined are
	// not skipped; offsets the subscriber marked (acked messages only) are
	// committed every second and when a member leaves.
	sc.Consumer.Offsets.Initial = sarama.OffsetOldest
	sc.Consumer.Offsets.AutoCommit.Enable = true
	sc.Consumer.Offsets.AutoCommit.Interval = time.Second
	sc.Consumer.Return.Errors = true
	if err := sc.Validate(); err != nil {
		return nil, fmt.Errorf("kafka: client configuration: %w", err)
	}
	return sc, nil
}

func (t TLS) config() (*tls.Config, error) {
	tc, err := tlsclient.Config(tlsclient.Files{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile})
	if err != nil {
		return nil, fmt.Errorf("kafka: tls: %w", err)
	}
	return tc, nil
}

// password returns Password, or PasswordFile's contents.
func (s SASL) password() (string, error) {
	if s.Password != "" {
		return s.Password, nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("kafka: sasl password_file: %w", err)
	}
	p := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if p == "" {
		return "", fmt.Errorf("kafka: sasl password_file %s is empty", s.PasswordFile)
	}
	return p, nil
}

func (s SASL) apply(sc *sarama.Config) error {
	pw, err := s.password()
	if err != nil {
		return err
	}
	sc.Net.SASL.Enable = true
	sc.Net.SASL.Handshake = true
	sc.Net.SASL.User = s.Username
	sc.Net.SASL.Password = pw
	switch s.Mechanism {
	case MechanismPlain:
		sc.Net.SASL.Mechanism = sarama.SASLTypePlaintext
	case MechanismSCRAMSHA256:
		sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA256
		sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAMClient(sha256Hash) }
	case MechanismSCRAMSHA512:
		sc.Net.SASL.Mechanism = sarama.SASLTypeSCRAMSHA512
		sc.Net.SASL.SCRAMClientGeneratorFunc = func() sarama.SCRAMClient { return newSCRAMClient(sha512Hash) }
	default:
		return fmt.Errorf("kafka: unknown sasl mechanism %q", s.Mechanism)
	}
	// SaslAuthenticate requests (handshake v1): SCRAM needs them, and
	// Kafka 4.0 no longer accepts the v0 framing.
	sc.Net.SASL.Version = sarama.SASLHandshakeV1
	return nil
}
