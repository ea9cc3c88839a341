package broker

import (
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Defaults of Config.
const (
	DefaultStream          = "CUSTODY_EVENTS"
	DefaultSubject         = "custody.events"
	DefaultDurable         = "custody-ingest"
	DefaultMaxAge          = 7 * 24 * time.Hour
	DefaultDuplicateWindow = 2 * time.Minute
	DefaultAckWait         = 60 * time.Second
	DefaultMaxAckPending   = 4096
	DefaultMaxInFlight     = 64 << 20
	// minInFlight keeps room for the largest message a server takes (the
	// embedded one's EmbeddedMaxMessageBytes, with headers).
	minInFlight           = 8 << 20
	DefaultNakDelay       = 5 * time.Second
	DefaultPublishTimeout = 10 * time.Second
	// PoisonSuffix is appended to Subject to name the poison subject.
	PoisonSuffix = ".poison"
)

// Config is how Custody reaches a NATS JetStream server or cluster and what
// it keeps there. The zero value of every field but URLs means its default.
type Config struct {
	// URLs of the servers (nats://host:4222, tls://host:4222). Not used
	// with InProcess.
	URLs []string
	// InProcess, when set, is the embedded server of this process
	// (Embedded.Config sets it): clients connect to it in-process, and it
	// listens on no port.
	InProcess nats.InProcessConnProvider
	// CredsFile is a user JWT + NKey seed (.creds); NKeyFile an NKey seed.
	// At most one of them.
	CredsFile string
	NKeyFile  string
	TLS       TLS

	// Stream holds the events (default CUSTODY_EVENTS) on Subject (default
	// custody.events) and the poison queue on PoisonSubject (default
	// Subject+".poison").
	Stream        string
	Subject       string
	PoisonSubject string
	// Durable is the pull consumer the pipeline reads through (default
	// custody-ingest): every replica of the pipeline pulls from the same
	// durable consumer and the server hands each message to one of them.
	Durable string
	// Replicas of the stream (default 1; 3 on a production cluster).
	Replicas int
	// MaxAge is how long the stream keeps messages, acknowledged or not
	// (default 7 days). A message not in the log by then is lost, poison
	// messages included: drain the poison subject within MaxAge.
	MaxAge time.Duration
	// DuplicateWindow is how long the server remembers message ids to drop
	// a re-sent publish (default 2 minutes).
	DuplicateWindow time.Duration
	// AckWait is how long the server waits for an ack before delivering a
	// message again (default 60 s). Keep it above the pipeline's worst-case
	// handling time (pipeline.Config.MaxHandlingTime), or slow batches are
	// delivered twice (harmless, since the log is idempotent, but wasted).
	AckWait time.Duration
	// MaxDeliver caps deliveries of one message (default -1: unlimited). The
	// pipeline moves messages it cannot store to the poison subject itself,
	// so the server never has to give up on one; a positive cap means a
	// message whose acks keep getting lost is eventually dropped.
	MaxDeliver int
	// MaxAckPending caps messages delivered and not yet acknowledged across
	// all replicas (default 4,096). The pipeline appends the messages it
	// holds together (pipeline.Coalesce), so this bounds how many small
	// messages one append can take. Delivered messages wait in the client
	// while earlier ones are appended, and their AckWait runs meanwhile.
	MaxAckPending int
	// MaxInFlightBytes caps the payload one subscriber holds: handed to
	// the pipeline and not yet acknowledged, and buffered in the client
	// (a quarter of it) ahead of the pipeline (default 64 MiB, at least 8
	// MiB). Large messages are bounded by it, small ones by MaxAckPending.
	MaxInFlightBytes int
	// NakDelay is how long a message the pipeline gave back (nack) waits
	// before it is delivered again (default 5 s).
	NakDelay time.Duration
	// PublishTimeout bounds one publish, including waiting for the
	// server's acknowledgement (default 10 s).
	PublishTimeout time.Duration
	// Name identifies the connections in server monitoring (default
	// "custody").
	Name string
}

// TLS configures TLS to the servers: CAFile verifies them, CertFile and
// KeyFile (both or neither) authenticate Custody.
type TLS struct {
	CAFile   string
	CertFile string
	KeyFile  string
}

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
	def(&c.Stream, DefaultStream)
	def(&c.Subject, DefaultSubject)
	def(&c.PoisonSubject, c.Subject+PoisonSuffix)
	def(&c.Durable, DefaultDurable)
	def(&c.Name, "custody")
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.MaxAge == 0 {
		c.MaxAge = DefaultMaxAge
	}
	if c.DuplicateWindow == 0 {
		c.DuplicateWindow = DefaultDuplicateWindow
	}
	if c.AckWait == 0 {
		c.AckWait = DefaultAckWait
	}
	if c.MaxDeliver == 0 {
		c.MaxDeliver = -1
	}
	if c.MaxAckPending == 0 {
		c.MaxAckPending = DefaultMaxAckPending
	}
	if c.MaxInFlightBytes == 0 {
		c.MaxInFlightBytes = DefaultMaxInFlight
	}
	if c.NakDelay == 0 {
		c.NakDelay = DefaultNakDelay
	}
	if c.PublishTimeout == 0 {
		c.PublishTimeout = DefaultPublishTimeout
	}
}

// Validate reports every invalid field of c with its defaults applied, each
// named as in the configuration file (broker.<field>).
func (c Config) Validate() error {
	c.setDefaults()
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("broker.%s: %s", field, fmt.Sprintf(format, args...)))
	}
	if len(c.URLs) == 0 && c.InProcess == nil {
		bad("urls", "at least one server URL is required (e.g. nats://nats-1:4222)")
	}
	for _, u := range c.URLs {
		if err := checkURL(u); err != nil {
			bad("urls", "%q: %v", u, err)
		}
	}
	if c.CredsFile != "" && c.NKeyFile != "" {
		bad("nkey_file", "set creds_file or nkey_file, not both")
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		bad("cert_file", "cert_file and key_file go together")
	}
	for _, n := range []struct{ field, v string }{{"stream", c.Stream}, {"durable", c.Durable}} {
		if !plainName(n.v) {
			bad(n.field, "must be a name without spaces, dots or wildcards (. * >), got %q", n.v)
		}
	}
	for _, s := range []struct{ field, v string }{{"subject", c.Subject}, {"poison_subject", c.PoisonSubject}} {
		if !literalSubject(s.v) {
			bad(s.field, "must be a literal subject (tokens separated by dots, no wildcards or spaces), got %q", s.v)
		}
	}
	if c.Subject == c.PoisonSubject {
		bad("poison_subject", "must differ from subject %q", c.Subject)
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		bad("replicas", "must be 1..5, got %d", c.Replicas)
	}
	if c.MaxAge < time.Minute {
		bad("max_age", "must be at least 1m, got %s", c.MaxAge)
	}
	if c.DuplicateWindow < time.Second || c.DuplicateWindow > c.MaxAge {
		bad("duplicate_window", "must be between 1s and max_age (%s), got %s", c.MaxAge, c.DuplicateWindow)
	}
	if c.AckWait < time.Second {
		bad("ack_wait", "must be at least 1s, got %s", c.AckWait)
	}
	if c.MaxDeliver != -1 && c.MaxDeliver < 1 {
		bad("max_deliver", "must be -1 (unlimited) or at least 1, got %d", c.MaxDeliver)
	}
	if c.MaxAckPending < 1 {
		bad("max_ack_pending", "must be positive, got %d", c.MaxAckPending)
	}
	if c.MaxInFlightBytes < minInFlight {
		bad("max_in_flight_bytes", "must be at least %d (the largest message with headers), got %d", minInFlight, c.MaxInFlightBytes)
	}
	if c.NakDelay < 0 {
		bad("nak_delay", "must not be negative, got %s", c.NakDelay)
	}
	if c.PublishTimeout < 100*time.Millisecond {
		bad("publish_timeout", "must be at least 100ms, got %s", c.PublishTimeout)
	}
	return errors.Join(errs...)
}

func checkURL(s string) error {
	u, err := url.Parse(s)
	if err != nil {
		return err
	}
	switch u.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return fmt.Errorf("scheme must be nats, tls, ws or wss")
	}
	if u.Host == "" {
		return fmt.Errorf("no host")
	}
	return nil
}

// plainName is a stream or consumer name JetStream accepts.
func plainName(s string) bool {
	return s != "" && !strings.ContainsAny(s, " \t\r\n.*>/\\")
}

// literalSubject is a subject one can publish to.
func literalSubject(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\r\n*>") {
		return false
	}
	for _, tok := range strings.Split(s, ".") {
		if tok == "" {
			return false
		}
	}
	return true
}

// connect opens a connection for role (publisher, subscriber, admin).
func (c Config) connect(role string, log *slog.Logger) (*nats.Conn, error) {
	opts, err := c.natsOptions(role, log)
	if err != nil {
		return nil, err
	}
	where := strings.Join(c.URLs, ",")
	if c.InProcess != nil {
		where = "the embedded server"
		opts = append(opts, nats.InProcessServer(c.InProcess))
	}
	nc, err := nats.Connect(strings.Join(c.URLs, ","), opts...)
	if err != nil {
		return nil, fmt.Errorf("broker: connect to %s: %w", where, err)
	}
	return nc, nil
}

// jetStream opens a connection for role and its JetStream context.
func (c Config) jetStream(role string, log *slog.Logger) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := c.connect(role, log)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("broker: jetstream: %w", err)
	}
	return nc, js, nil
}

// natsOptions are the connection options for role: credentials, TLS,
// endless reconnects, and connection events in the log.
func (c Config) natsOptions(role string, log *slog.Logger) ([]nats.Option, error) {
	log = log.With("component", "broker", "role", role)
	opts := []nats.Option{
		nats.Name(c.Name + "-" + role),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(time.Second),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("broker connection lost", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("broker connection restored", "url", nc.ConnectedUrlRedacted())
		}),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("broker error", "subject", subject, "err", err)
		}),
	}
	if c.CredsFile != "" {
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	}
	if c.NKeyFile != "" {
		o, err := nats.NkeyOptionFromSeed(c.NKeyFile)
		if err != nil {
			return nil, fmt.Errorf("broker: nkey_file %s: %w", c.NKeyFile, err)
		}
		opts = append(opts, o)
	}
	if c.TLS.CAFile != "" {
		opts = append(opts, nats.RootCAs(c.TLS.CAFile))
	}
	if c.TLS.CertFile != "" {
		opts = append(opts, nats.ClientCert(c.TLS.CertFile, c.TLS.KeyFile))
	}
	return opts, nil
}
