package config

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/custodyhq/custody/internal/auth"
	"github.com/custodyhq/custody/internal/identity"
)

// Config is the whole configuration. YAML keys are the snake_case names in
// the tags; env overrides are listed in Overrides.
type Config struct {
	// DataDir holds the embedded engine, generated keys and (later) the
	// broker's files. One process owns it.
	DataDir string `yaml:"data_dir"`
	// Dev enables conveniences unsafe in production (see README).
	Dev        bool             `yaml:"dev"`
	Log        LogConfig        `yaml:"log"`
	HTTP       HTTPConfig       `yaml:"http"`
	ClickHouse ClickHouseConfig `yaml:"clickhouse"`
	Security   SecurityConfig   `yaml:"security"`
	Taxonomy   TaxonomyConfig   `yaml:"taxonomy"`
	Broker     BrokerConfig     `yaml:"broker"`
	Ingest     IngestConfig     `yaml:"ingest"`
	Rejected   RejectedConfig   `yaml:"rejected"`
	Auth       AuthConfig       `yaml:"auth"`
	Requests   RequestsConfig   `yaml:"requests"`
	GraphQL    GraphQLConfig    `yaml:"graphql"`
	// Tenants describes each business (brand) for the reports sent to
	// consumers: its name, privacy contact and retention periods.
	Tenants map[string]TenantConfig `yaml:"tenants"`
}

// GraphQLConfig bounds /graphql; zero values take the API's defaults
// (complexity 500, depth 12, 30 s, 1 MiB). Reads are defaulted by Load.
type GraphQLConfig struct {
	ComplexityLimit int           `yaml:"complexity_limit"`
	DepthLimit      int           `yaml:"depth_limit"`
	RequestTimeout  time.Duration `yaml:"request_timeout"`
	MaxBodyBytes    int64         `yaml:"max_body_bytes"`
	Reads           ReadsConfig   `yaml:"reads"`
}

// ReadsConfig bounds the reads of personal data the read API runs (GraphQL
// subject, lineage, rightToKnow and accessLog, and report downloads), so
// that they share the machine with the ingest pipeline: at most
// MaxConcurrent run at once, at most MaxQueued more wait for a turn, each
// at most MaxWait; others are refused (GraphQL OVERLOADED, HTTP 503 with
// Retry-After). Each statement of an admitted read runs with ClickHouse's
// max_threads and priority set to MaxThreads and Priority.
type ReadsConfig struct {
	// MaxConcurrent defaults to twice the Go scheduler's processors
	// (GOMAXPROCS: a read alternates between engine work and decoding and
	// decrypting here), and with the embedded engine to at most its
	// connections (a read beyond them would hold a turn only to wait for
	// one). Measured on 2 cores, 200 readers beside 5,000 events/s of
	// ingest: 4 at once read about as many people per second as 200 at
	// once (19-26 against 27) while the pipeline's backlog peaked at
	// 2,400-4,500 events instead of 63,000.
	MaxConcurrent int `yaml:"max_concurrent"`
	// MaxQueued defaults to 64; 0 refuses every read that finds
	// MaxConcurrent running.
	MaxQueued *int `yaml:"max_queued"`
	// MaxWait defaults to 5s (never beyond the request's own timeout).
	MaxWait time.Duration `yaml:"max_wait"`
	// MaxThreads defaults to 1: a person read is a few lookups by primary
	// key, which more threads barely speed up, and the threads it does not
	// take are the pipeline's.
	MaxThreads int `yaml:"max_threads"`
	// Priority defaults to 10 (1 is the highest; larger is lower). A
	// ClickHouse query waits while one of a smaller positive priority runs
	// in the same server (the embedded engine is one); queries at priority
	// 0, the default of every other Custody statement, neither wait nor
	// hold others back.
	Priority int `yaml:"priority"`
}

// Defaults of ReadsConfig.
const (
	DefaultReadsMaxQueued  = 64
	DefaultReadsMaxWait    = 5 * time.Second
	DefaultReadsMaxThreads = 1
	DefaultReadsPriority   = 10
)

// RequestsConfig sets how rights-request deadlines are counted.
type RequestsConfig struct {
	// TimeZone is the business's IANA time zone: deadlines are dates
	// there. Default UTC.
	TimeZone string `yaml:"time_zone"`
	// Holidays (2006-01-02) are not business days, besides weekends.
	Holidays []string `yaml:"holidays"`
}

// TenantConfig describes one business for its consumer reports.
type TenantConfig struct {
	Name    string `yaml:"name"`    // default: the tenant key
	Contact string `yaml:"contact"` // how to reach the privacy team
	// Retention maps a data category or group ("financial") to how long it
	// is kept, in plain language; Default covers the rest.
	Retention struct {
		Default string            `yaml:"default"`
		Periods map[string]string `yaml:"periods"`
	} `yaml:"retention"`
	// DefaultPhoneRegion, when set, is the region (an ISO 3166-1 alpha-2
	// code of identity.PhoneRegions: US, CA, GB) whose national format the
	// tenant's phone identifiers written without a country code are read
	// in, and stored in E.164; without it such numbers are refused.
	DefaultPhoneRegion string `yaml:"default_phone_region"`
}

// PhoneRegions returns each tenant's default phone region (tenants without
// one are left out), for event.Options.PhoneRegions.
func (c Config) PhoneRegions() map[string]string {
	var out map[string]string
	for tenant, t := range c.Tenants {
		if t.DefaultPhoneRegion != "" {
			if out == nil {
				out = map[string]string{}
			}
			out[tenant] = t.DefaultPhoneRegion
		}
	}
	return out
}

// AuthConfig lists the API's bearer tokens, as SHA-256 hashes with roles
// (`custody token new` makes one). With none configured and dev off, an
// admin and a publisher token are generated into data_dir/tokens.
type AuthConfig struct {
	Tokens []auth.Token `yaml:"tokens"`
}

// BrokerConfig selects the event transport between ingest and the log.
type BrokerConfig struct {
	// Mode is embedded (an in-process NATS JetStream server storing under
	// data_dir/nats), nats (an external NATS JetStream cluster: the fields
	// below), kafka (external Kafka brokers: Kafka), or direct (no broker:
	// HTTP ingest appends to the log synchronously; for debugging and
	// tests).
	Mode      string   `yaml:"mode"`
	URLs      []string `yaml:"urls"`
	CredsFile string   `yaml:"creds_file"`
	NKeyFile  string   `yaml:"nkey_file"`
	CAFile    string   `yaml:"ca_file"`
	CertFile  string   `yaml:"cert_file"`
	KeyFile   string   `yaml:"key_file"`
	Stream    string   `yaml:"stream"`
	Subject   string   `yaml:"subject"`
	Durable   string   `yaml:"durable"`
	Replicas  int      `yaml:"replicas"`
	// MaxLag is how old the pipeline's oldest unstored message may grow
	// before /readyz says not ready (default 5m; NATS modes).
	MaxLag time.Duration `yaml:"max_lag"`
	// Kafka configures mode kafka.
	Kafka KafkaConfig `yaml:"kafka"`
}

// KafkaConfig is broker.kafka, read when broker.mode is kafka. Zero values
// take package kafka's defaults: topic custody.events (poison topic
// custody.events.poison), consumer group custody-ingest, 12 partitions,
// replication factor 1 (use 3 in production), retention 7 days, protocol
// version 2.3.0, 900,000-byte messages.
type KafkaConfig struct {
	// Brokers are the bootstrap brokers, host:port.
	Brokers           []string      `yaml:"brokers"`
	Topic             string        `yaml:"topic"`
	PoisonTopic       string        `yaml:"poison_topic"`
	ConsumerGroup     string        `yaml:"consumer_group"`
	Partitions        int           `yaml:"partitions"`
	ReplicationFactor int           `yaml:"replication_factor"`
	Retention         time.Duration `yaml:"retention"`
	ClientID          string        `yaml:"client_id"`
	Version           string        `yaml:"version"`
	MaxMessageBytes   int           `yaml:"max_message_bytes"`
	TLS               KafkaTLS      `yaml:"tls"`
	SASL              KafkaSASL     `yaml:"sasl"`
}

// KafkaTLS turns TLS on (enabled, or any file set): ca_file verifies the
// brokers (default: the system roots), cert_file and key_file
// authenticate Custody.
type KafkaTLS struct {
	Enabled  bool   `yaml:"enabled"`
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// KafkaSASL authenticates to the brokers: mechanism PLAIN (over TLS only),
// SCRAM-SHA-256 or SCRAM-SHA-512, a username, and the password from
// CUSTODY_BROKER_KAFKA_PASSWORD or else password_file. The password is
// never in the configuration file, and is not required here: processes
// that never open the transport (custody migrate) load the same file
// without it; opening the transport without one fails, naming the field.
type KafkaSASL struct {
	Mechanism    string `yaml:"mechanism"`
	Username     string `yaml:"username"`
	PasswordFile string `yaml:"password_file"`
	Password     string `yaml:"-"` // CUSTODY_BROKER_KAFKA_PASSWORD only
}

// String shows the mechanism and user, never the password.
func (s KafkaSASL) String() string {
	if s.Mechanism == "" {
		return "none"
	}
	return fmt.Sprintf("%s user=%s password=[redacted]", s.Mechanism, s.Username)
}

// Format makes every fmt verb print String.
func (s KafkaSASL) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(s.String())) }

// LogValue implements slog.LogValuer without the password.
func (s KafkaSASL) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalJSON writes String: a Config logged as JSON shows no password.
func (s KafkaSASL) MarshalJSON() ([]byte, error) { return json.Marshal(s.String()) }

// IngestConfig bounds POST /v1/events.
type IngestConfig struct {
	MaxBodyBytes int64 `yaml:"max_body_bytes"`
	MaxEvents    int   `yaml:"max_events"`
	// GroupCommit is how concurrent requests share one publish to the
	// broker (or one append, in direct mode).
	GroupCommit GroupCommitConfig `yaml:"group_commit"`
}

// RejectedConfig caps the store of rejected events (package rejected, its
// Limits); zero values take its defaults: at most 64 KiB kept of one
// rejected event (the rest is dropped and the rejection marked truncated),
// at most 256 MiB of payloads and 100,000 rejections in all. Beyond the
// caps rejected events are still answered with their errors but not kept
// (custody_rejected_dropped_total). Rejections expire after 30 days (the
// table's TTL, schema/clickhouse/008_rejected_retention.sql).
type RejectedConfig struct {
	MaxPayloadBytes int   `yaml:"max_payload_bytes"`
	MaxStoredBytes  int64 `yaml:"max_stored_bytes"`
	MaxStored       int   `yaml:"max_stored"`
}

// GroupCommitConfig configures ingest.GroupCommit; 0 means its default
// (concurrency 2, max_events 10,000).
type GroupCommitConfig struct {
	// Concurrency is how many publishes run at once; requests arriving
	// while all run wait and go together in the next.
	Concurrency int `yaml:"concurrency"`
	// MaxEvents caps the events of one publish (never splitting a
	// request).
	MaxEvents int `yaml:"max_events"`
}

// LogConfig selects slog's level and format.
type LogConfig struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // json or text
}

// HTTPConfig is the server's listener.
type HTTPConfig struct {
	Addr            string        `yaml:"addr"`
	ReadTimeout     time.Duration `yaml:"read_timeout"`
	WriteTimeout    time.Duration `yaml:"write_timeout"`
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
}

// ClickHouseConfig selects and configures the storage transport.
type ClickHouseConfig struct {
	Transport string         `yaml:"transport"` // embedded or native
	Embedded  EmbeddedConfig `yaml:"embedded"`
	Native    NativeConfig   `yaml:"native"`
	Cluster   ClusterConfig  `yaml:"cluster"`
}

// EmbeddedConfig configures chDB.
type EmbeddedConfig struct {
	LibraryPath string `yaml:"library_path"` // default: CUSTODY_CHDB_LIB or the make-deps cache
	Connections int    `yaml:"connections"`
}

// NativeConfig configures clickhouse-go.
type NativeConfig struct {
	Addrs       []string `yaml:"addrs"`
	Database    string   `yaml:"database"`
	Username    string   `yaml:"username"`
	Password    string   `yaml:"password"`
	Compression string   `yaml:"compression"`
	TLS         bool     `yaml:"tls"`
	CAFile      string   `yaml:"ca_file"`
}

// ClusterConfig renders migrations for a ClickHouse cluster.
type ClusterConfig struct {
	Name        string `yaml:"name"`
	Replicated  bool   `yaml:"replicated"`
	ReplicaPath string `yaml:"replica_path"`
	ReplicaName string `yaml:"replica_name"`
	// Sharded spreads the data over the cluster's shards by subject:
	// Distributed tables (<table>_all) over the replicated local tables,
	// read and written by Custody. Needs name, replicated and the native
	// transport. The sharding keys are fixed by Custody (see
	// deploy/README.md); the shard count cannot change afterwards.
	Sharded bool `yaml:"sharded"`
}

// SecurityConfig locates the two secrets: the master key wrapping
// per-subject data keys, and the key of identifier hashes. Either comes
// from the environment (base64) or a file; GenerateKeys creates missing
// files (0600) on first start.
type SecurityConfig struct {
	MasterKeyFile         string   `yaml:"master_key_file"`
	MasterKey             string   `yaml:"-"` // CUSTODY_MASTER_KEY only, never from a file in the repo
	PreviousMasterKeyFile []string `yaml:"previous_master_key_files"`
	// PreviousMasterKeys are retired master keys given in the environment
	// (CUSTODY_PREVIOUS_MASTER_KEYS, comma-separated), for platforms that
	// cannot give a process owner-only key files (Kubernetes secrets).
	PreviousMasterKeys []string `yaml:"-"`
	IdentifierKeyFile  string   `yaml:"identifier_key_file"`
	IdentifierKey      string   `yaml:"-"` // CUSTODY_IDENTIFIER_KEY only
	GenerateKeys       *bool    `yaml:"generate_keys"`
}

// TaxonomyConfig extends the built-in taxonomy per tenant.
type TaxonomyConfig struct {
	// Extensions maps a tenant to a YAML extension file.
	Extensions map[string]string `yaml:"extensions"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	var c Config
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&c.DataDir, "./data")
	def(&c.Log.Level, "info")
	def(&c.Log.Format, "json")
	def(&c.HTTP.Addr, "127.0.0.1:8080")
	if c.HTTP.ReadTimeout == 0 {
		c.HTTP.ReadTimeout = 30 * time.Second
	}
	if c.HTTP.WriteTimeout == 0 {
		c.HTTP.WriteTimeout = 60 * time.Second
	}
	if c.HTTP.ShutdownTimeout == 0 {
		c.HTTP.ShutdownTimeout = 20 * time.Second
	}
	def(&c.ClickHouse.Transport, "embedded")
	if c.ClickHouse.Embedded.Connections == 0 {
		c.ClickHouse.Embedded.Connections = 4
	}
	def(&c.ClickHouse.Native.Database, "default")
	def(&c.ClickHouse.Native.Username, "default")
	def(&c.ClickHouse.Native.Compression, "lz4")
	def(&c.Broker.Mode, "embedded")
	if c.Broker.MaxLag == 0 {
		c.Broker.MaxLag = 5 * time.Minute
	}
	if c.Ingest.MaxBodyBytes == 0 {
		c.Ingest.MaxBodyBytes = 10 << 20
	}
	if c.Ingest.MaxEvents == 0 {
		c.Ingest.MaxEvents = 10_000
	}
	c.GraphQL.Reads.setDefaults(c.ClickHouse, runtime.GOMAXPROCS(0))
	def(&c.Security.MasterKeyFile, filepath.Join(c.DataDir, "keys", "master.key"))
	def(&c.Security.IdentifierKeyFile, filepath.Join(c.DataDir, "keys", "identifier.key"))
	if c.Security.GenerateKeys == nil {
		yes := true
		c.Security.GenerateKeys = &yes
	}
}

// setDefaults fills the zero fields of r for a process with procs
// processors on ch (whose own defaults are set).
func (r *ReadsConfig) setDefaults(ch ClickHouseConfig, procs int) {
	if r.MaxConcurrent == 0 {
		r.MaxConcurrent = max(1, 2*procs)
		if ch.Transport == "embedded" {
			r.MaxConcurrent = max(1, min(r.MaxConcurrent, ch.Embedded.Connections))
		}
	}
	if r.MaxQueued == nil {
		n := DefaultReadsMaxQueued
		r.MaxQueued = &n
	}
	if r.MaxWait == 0 {
		r.MaxWait = DefaultReadsMaxWait
	}
	if r.MaxThreads == 0 {
		r.MaxThreads = DefaultReadsMaxThreads
	}
	if r.Priority == 0 {
		r.Priority = DefaultReadsPriority
	}
}

// validate checks graphql.reads as Load leaves it (defaults set).
func (r ReadsConfig) validate(bad func(field, format string, args ...any)) {
	if n := r.MaxConcurrent; n < 1 || n > 1024 {
		bad("graphql.reads.max_concurrent", "must be 1..1024 (0 = default), got %d", n)
	}
	switch {
	case r.MaxQueued == nil:
		bad("graphql.reads.max_queued", "is required (Load sets the default, %d)", DefaultReadsMaxQueued)
	case *r.MaxQueued < 0 || *r.MaxQueued > 100_000:
		bad("graphql.reads.max_queued", "must be 0..100000 (0 = refuse when max_concurrent reads run), got %d", *r.MaxQueued)
	}
	if r.MaxWait < time.Millisecond || r.MaxWait > 10*time.Minute {
		bad("graphql.reads.max_wait", "must be 1ms..10m (0 = default 5s), got %s", r.MaxWait)
	}
	if n := r.MaxThreads; n < 1 || n > 256 {
		bad("graphql.reads.max_threads", "must be 1..256 (0 = default 1), got %d", n)
	}
	if n := r.Priority; n < 1 || n > 1_000_000 {
		bad("graphql.reads.priority", "must be 1..1000000 (0 = default 10; larger is lower), got %d", n)
	}
}

// Validate returns every invalid field, each named by its YAML path.
func (c Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("config %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if c.DataDir == "" {
		bad("data_dir", "is required")
	}
	if _, err := ParseLevel(c.Log.Level); err != nil {
		bad("log.level", "%v", err)
	}
	if c.Log.Format != "json" && c.Log.Format != "text" {
		bad("log.format", "must be json or text, got %q", c.Log.Format)
	}
	if c.HTTP.Addr == "" {
		bad("http.addr", "is required")
	} else if reason := checkAddr(c.HTTP.Addr, false); reason != "" {
		bad("http.addr", "%q %s", c.HTTP.Addr, reason)
	}
	// Durations: 0 takes the default (Load sets it), so what is left to
	// refuse is what cannot work: a request cut off before it could be
	// read or answered, a negative wait.
	for _, d := range []struct {
		field string
		v     time.Duration
		min   time.Duration
		rule  string
	}{
		{"http.read_timeout", c.HTTP.ReadTimeout, time.Second, "must be at least 1s (0 = default 30s)"},
		{"http.write_timeout", c.HTTP.WriteTimeout, time.Second, "must be at least 1s (0 = default 60s)"},
		{"http.shutdown_timeout", c.HTTP.ShutdownTimeout, time.Nanosecond, "must be more than 0 (0 = default 20s)"},
	} {
		if d.v < d.min {
			bad(d.field, "%s, got %s", d.rule, d.v)
		}
	}
	switch c.ClickHouse.Transport {
	case "embedded":
		if n := c.ClickHouse.Embedded.Connections; n < 1 || n > 64 {
			bad("clickhouse.embedded.connections", "must be 1..64, got %d", n)
		}
	case "native":
		if len(c.ClickHouse.Native.Addrs) == 0 {
			bad("clickhouse.native.addrs", "is required for the native transport (host:port of the native protocol, e.g. 127.0.0.1:9000)")
		}
		for i, a := range c.ClickHouse.Native.Addrs {
			if reason := checkAddr(a, true); reason != "" {
				bad(fmt.Sprintf("clickhouse.native.addrs[%d]", i), "%q %s", a, reason)
			}
		}
	default:
		bad("clickhouse.transport", "must be embedded or native, got %q", c.ClickHouse.Transport)
	}
	switch c.ClickHouse.Native.Compression {
	case "lz4", "zstd", "none":
	default:
		bad("clickhouse.native.compression", "must be lz4, zstd or none, got %q", c.ClickHouse.Native.Compression)
	}
	if n := c.ClickHouse.Cluster.Name; n != "" && !plainName(n) {
		bad("clickhouse.cluster.name", "must be a plain name ([A-Za-z_][A-Za-z0-9_]*), got %q", n)
	}
	if c.ClickHouse.Cluster.Replicated && c.ClickHouse.Cluster.Name == "" {
		bad("clickhouse.cluster.name", "is required when clickhouse.cluster.replicated is true")
	}
	if cl := c.ClickHouse.Cluster; cl.Sharded {
		switch {
		case cl.Name == "" || !cl.Replicated:
			bad("clickhouse.cluster.sharded", "needs clickhouse.cluster.name and clickhouse.cluster.replicated: true (shards are replicated tables on a named cluster)")
		case c.ClickHouse.Transport != "native":
			bad("clickhouse.cluster.sharded", "needs clickhouse.transport: native (the embedded engine runs no cluster)")
		}
	}
	switch c.Broker.Mode {
	case "embedded", "direct":
	case "nats":
		if len(c.Broker.URLs) == 0 {
			bad("broker.urls", "is required when broker.mode is nats (e.g. nats://nats-1:4222)")
		}
		for i, u := range c.Broker.URLs {
			if reason := checkNATSURL(u); reason != "" {
				field := fmt.Sprintf("broker.urls[%d]", i)
				if p, err := url.Parse(u); err == nil {
					bad(field, "%q %s", p.Redacted(), reason) // no password in the message
				} else {
					bad(field, "%s", reason)
				}
			}
		}
	case "kafka":
		c.Broker.Kafka.validate(bad)
	default:
		bad("broker.mode", "must be embedded, nats, kafka or direct, got %q", c.Broker.Mode)
	}
	if c.Broker.MaxLag < 10*time.Second {
		bad("broker.max_lag", "must be at least 10s (0 = default 5m), got %s", c.Broker.MaxLag)
	}
	if c.Broker.Replicas < 0 || c.Broker.Replicas > 5 {
		bad("broker.replicas", "must be 0..5 (0 = default 1), got %d", c.Broker.Replicas)
	}
	if c.Ingest.MaxBodyBytes < 1<<10 {
		bad("ingest.max_body_bytes", "must be at least 1024, got %d", c.Ingest.MaxBodyBytes)
	}
	if c.Ingest.MaxEvents < 1 || c.Ingest.MaxEvents > 100_000 {
		bad("ingest.max_events", "must be 1..100000, got %d", c.Ingest.MaxEvents)
	}
	if n := c.Ingest.GroupCommit.Concurrency; n < 0 || n > 64 {
		bad("ingest.group_commit.concurrency", "must be 1..64 (0 = default 2), got %d", n)
	}
	if n := c.Ingest.GroupCommit.MaxEvents; n < 0 || n > 100_000 {
		bad("ingest.group_commit.max_events", "must be 1..100000 (0 = default 10000), got %d", n)
	}
	if n := c.Rejected.MaxPayloadBytes; n != 0 && (n < 1<<10 || n > 1<<20) {
		bad("rejected.max_payload_bytes", "must be 1024..1048576 (0 = default 65536), got %d", n)
	}
	payload := cmp.Or(c.Rejected.MaxPayloadBytes, 64<<10)
	if n := c.Rejected.MaxStoredBytes; n < 0 || n != 0 && n < int64(payload) {
		bad("rejected.max_stored_bytes", "must be at least rejected.max_payload_bytes, %d (0 = default 268435456), got %d", payload, n)
	}
	if n := c.Rejected.MaxStored; n < 0 {
		bad("rejected.max_stored", "must be at least 1 (0 = default 100000), got %d", n)
	}
	for i, t := range c.Auth.Tokens {
		if err := t.Validate(); err != nil {
			bad(fmt.Sprintf("auth.tokens[%d]", i), "%v", err)
		}
	}
	// The API's own minimums (graphql.Config.Validate), so that
	// config check finds what would stop the server starting.
	if n := c.GraphQL.ComplexityLimit; n < 0 {
		bad("graphql.complexity_limit", "must be at least 1 (0 = default 500), got %d", n)
	}
	if n := c.GraphQL.DepthLimit; n < 0 || n == 1 {
		bad("graphql.depth_limit", "must be at least 2 (0 = default 12), got %d", n)
	}
	if d := c.GraphQL.RequestTimeout; d != 0 && d < time.Second {
		bad("graphql.request_timeout", "must be at least 1s (0 = default 30s), got %s", d)
	}
	if n := c.GraphQL.MaxBodyBytes; n != 0 && n < 1<<10 {
		bad("graphql.max_body_bytes", "must be at least 1024 (0 = default 1048576), got %d", n)
	}
	c.GraphQL.Reads.validate(bad)
	if _, err := time.LoadLocation(c.Requests.TimeZone); err != nil {
		bad("requests.time_zone", "%q is not an IANA time zone (e.g. America/Los_Angeles): %v", c.Requests.TimeZone, err)
	}
	for i, h := range c.Requests.Holidays {
		if _, err := time.Parse(time.DateOnly, h); err != nil {
			bad(fmt.Sprintf("requests.holidays[%d]", i), "%q is not a date (2006-01-02)", h)
		}
	}
	for _, tenant := range slices.Sorted(maps.Keys(c.Tenants)) {
		if r := c.Tenants[tenant].DefaultPhoneRegion; r != "" && !identity.KnownPhoneRegion(r) {
			bad("tenants."+tenant+".default_phone_region", "%q is not a region Custody reads national phone numbers of; supported: %s",
				r, strings.Join(identity.PhoneRegions(), ", "))
		}
	}
	if c.Security.MasterKey == "" && c.Security.MasterKeyFile == "" {
		bad("security.master_key_file", "is required (or set CUSTODY_MASTER_KEY)")
	}
	if c.Security.IdentifierKey == "" && c.Security.IdentifierKeyFile == "" {
		bad("security.identifier_key_file", "is required (or set CUSTODY_IDENTIFIER_KEY)")
	}
	return errors.Join(errs...)
}

// validate checks broker.kafka as far as the file can tell; package kafka
// checks the rest (the protocol version, the password) when the transport
// opens.
func (k KafkaConfig) validate(bad func(field, format string, args ...any)) {
	if len(k.Brokers) == 0 {
		bad("broker.kafka.brokers", "at least one host:port is required when broker.mode is kafka (e.g. kafka-0:9092)")
	}
	for _, b := range k.Brokers {
		if reason := checkAddr(b, true); reason != "" {
			bad("broker.kafka.brokers", "%q %s", b, reason)
		}
	}
	for _, t := range []struct{ field, v string }{{"topic", k.Topic}, {"poison_topic", k.PoisonTopic}} {
		if t.v != "" && !kafkaTopic(t.v) {
			bad("broker.kafka."+t.field, "must be 1..249 letters, digits, '.', '_' or '-', got %q", t.v)
		}
	}
	if k.Topic != "" && k.Topic == k.PoisonTopic {
		bad("broker.kafka.poison_topic", "must differ from broker.kafka.topic %q", k.Topic)
	}
	if strings.ContainsAny(k.ConsumerGroup, " \t\r\n") {
		bad("broker.kafka.consumer_group", "must not contain spaces, got %q", k.ConsumerGroup)
	}
	if k.Partitions < 0 || k.Partitions > 10_000 {
		bad("broker.kafka.partitions", "must be 1..10000 (0 = default 12), got %d", k.Partitions)
	}
	if k.ReplicationFactor < 0 || k.ReplicationFactor > 32 {
		bad("broker.kafka.replication_factor", "must be 1..32 (0 = default 1; 3 in production), got %d", k.ReplicationFactor)
	}
	if k.Retention != 0 && k.Retention < time.Minute {
		bad("broker.kafka.retention", "must be at least 1m (0 = default 7 days), got %s", k.Retention)
	}
	if n := k.MaxMessageBytes; n != 0 && (n < 64<<10 || n > 64<<20) {
		bad("broker.kafka.max_message_bytes", "must be 65536..67108864 (0 = default 900000), got %d", n)
	}
	if (k.TLS.CertFile == "") != (k.TLS.KeyFile == "") {
		bad("broker.kafka.tls.cert_file", "cert_file and key_file go together")
	}
	switch k.SASL.Mechanism {
	case "":
		if k.SASL.Username != "" || k.SASL.PasswordFile != "" {
			bad("broker.kafka.sasl.mechanism", "is required with a username or password_file (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
	case "PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512":
		if k.SASL.Username == "" {
			bad("broker.kafka.sasl.username", "is required with sasl.mechanism %s", k.SASL.Mechanism)
		}
	default:
		bad("broker.kafka.sasl.mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q", k.SASL.Mechanism)
	}
}

// checkAddr says why addr is not host:port, "" when it is. The port is a
// number, 0..65535 for a listener (0: any free port) and 1..65535 for a
// server to dial; the host is an IP address or a DNS name, and may be left
// out only for a listener (":8080": every interface).
func checkAddr(addr string, dial bool) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "is not host:port (e.g. 127.0.0.1:8080, [::1]:8080 or :8080)"
	}
	lo := 0
	if dial {
		lo = 1
	}
	if n, err := strconv.Atoi(port); err != nil || n < lo || n > 65535 || strings.TrimLeft(port, "0123456789") != "" {
		return fmt.Sprintf("has port %q: want a number %d..65535", port, lo)
	}
	switch {
	case host == "":
		if dial {
			return "has no host: want host:port"
		}
	case !validHost(host):
		return fmt.Sprintf("has host %q: want an IP address or a DNS name", host)
	}
	return ""
}

// validHost reports whether h is an IP address (IPv6 with an optional
// zone) or a DNS name: dot-separated labels of letters, digits, '-' and
// '_', none empty or longer than 63 bytes, none starting or ending with '-'.
func validHost(h string) bool {
	if _, err := netip.ParseAddr(h); err == nil {
		return true
	}
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
				return false
			}
		}
	}
	return true
}

// checkNATSURL says why u is not a NATS server URL, "" when it is:
// nats://, tls://, ws:// or wss:// and host[:port] (port default 4222).
func checkNATSURL(u string) string {
	p, err := url.Parse(u)
	if err != nil || strings.ContainsAny(u, " \t\r\n") {
		return "is not a URL (e.g. nats://nats-1:4222)"
	}
	switch p.Scheme {
	case "nats", "tls", "ws", "wss":
	default:
		return "must start with nats://, tls://, ws:// or wss:// (e.g. nats://nats-1:4222)"
	}
	if p.Port() == "" {
		if !validHost(p.Hostname()) {
			return fmt.Sprintf("has host %q: want an IP address or a DNS name", p.Hostname())
		}
		return ""
	}
	if reason := checkAddr(p.Host, true); reason != "" {
		return reason
	}
	return ""
}

// kafkaTopic applies Kafka's rules for topic names.
func kafkaTopic(s string) bool {
	if s == "." || s == ".." || len(s) > 249 {
		return false
	}
	for _, r := range s {
		if !(r == '.' || r == '_' || r == '-' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return s != ""
}

// plainName reports whether s is an unquoted ClickHouse identifier.
func plainName(s string) bool {
	for i, r := range s {
		letter := r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !letter && (i == 0 || r < '0' || r > '9') {
			return false
		}
	}
	return s != ""
}

// ParseLevel reads a slog level name.
func ParseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("unknown level %q (want debug, info, warn or error)", s)
	}
	return l, nil
}

// Load reads path (optional: "" means no file), applies env overrides from
// environ (os.Environ() form), fills defaults and validates.
func Load(path string, environ []string) (Config, error) {
	var c Config
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return c, fmt.Errorf("read config: %w", err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty or comment-only file is no document (io.EOF): defaults.
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
	}
	if err := c.applyEnv(environ); err != nil {
		return c, err
	}
	c.setDefaults()
	return c, c.Validate()
}

// Override is one environment variable and the setting it overrides.
type Override struct {
	Env, Field string
	set        func(*Config, string) error
}

// Overrides lists every CUSTODY_* variable Load honours, for --help and
// README.
func Overrides() []Override {
	str := func(f func(*Config) *string) func(*Config, string) error {
		return func(c *Config, v string) error { *f(c) = v; return nil }
	}
	integer := func(f func(*Config) *int) func(*Config, string) error {
		return func(c *Config, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil {
				return fmt.Errorf("%q is not an integer", v)
			}
			*f(c) = n
			return nil
		}
	}
	duration := func(f func(*Config) *time.Duration) func(*Config, string) error {
		return func(c *Config, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return fmt.Errorf("%q is not a duration (e.g. 5s, 500ms)", v)
			}
			*f(c) = d
			return nil
		}
	}
	boolean := func(f func(*Config) *bool) func(*Config, string) error {
		return func(c *Config, v string) error {
			b, err := strconv.ParseBool(v)
			if err != nil {
				return err
			}
			*f(c) = b
			return nil
		}
	}
	return []Override{
		{"CUSTODY_DATA_DIR", "data_dir", str(func(c *Config) *string { return &c.DataDir })},
		{"CUSTODY_DEV", "dev", boolean(func(c *Config) *bool { return &c.Dev })},
		{"CUSTODY_LOG_LEVEL", "log.level", str(func(c *Config) *string { return &c.Log.Level })},
		{"CUSTODY_LOG_FORMAT", "log.format", str(func(c *Config) *string { return &c.Log.Format })},
		{"CUSTODY_HTTP_ADDR", "http.addr", str(func(c *Config) *string { return &c.HTTP.Addr })},
		{"CUSTODY_CLICKHOUSE_TRANSPORT", "clickhouse.transport", str(func(c *Config) *string { return &c.ClickHouse.Transport })},
		{"CUSTODY_CHDB_LIB", "clickhouse.embedded.library_path", str(func(c *Config) *string { return &c.ClickHouse.Embedded.LibraryPath })},
		{"CUSTODY_CLICKHOUSE_ADDRS", "clickhouse.native.addrs (comma-separated)", func(c *Config, v string) error {
			c.ClickHouse.Native.Addrs = splitList(v)
			return nil
		}},
		{"CUSTODY_CLICKHOUSE_DATABASE", "clickhouse.native.database", str(func(c *Config) *string { return &c.ClickHouse.Native.Database })},
		{"CUSTODY_CLICKHOUSE_USERNAME", "clickhouse.native.username", str(func(c *Config) *string { return &c.ClickHouse.Native.Username })},
		{"CUSTODY_CLICKHOUSE_PASSWORD", "clickhouse.native.password", str(func(c *Config) *string { return &c.ClickHouse.Native.Password })},
		{"CUSTODY_BROKER_MODE", "broker.mode", str(func(c *Config) *string { return &c.Broker.Mode })},
		{"CUSTODY_NATS_URLS", "broker.urls (comma-separated)", func(c *Config, v string) error {
			c.Broker.URLs = splitList(v)
			return nil
		}},
		{"CUSTODY_BROKER_KAFKA_BROKERS", "broker.kafka.brokers (comma-separated host:port)", func(c *Config, v string) error {
			c.Broker.Kafka.Brokers = splitList(v)
			return nil
		}},
		{"CUSTODY_BROKER_KAFKA_TOPIC", "broker.kafka.topic", str(func(c *Config) *string { return &c.Broker.Kafka.Topic })},
		{"CUSTODY_BROKER_KAFKA_CONSUMER_GROUP", "broker.kafka.consumer_group", str(func(c *Config) *string { return &c.Broker.Kafka.ConsumerGroup })},
		{"CUSTODY_BROKER_KAFKA_USERNAME", "broker.kafka.sasl.username", str(func(c *Config) *string { return &c.Broker.Kafka.SASL.Username })},
		{"CUSTODY_BROKER_KAFKA_PASSWORD", "broker.kafka.sasl.password (never in the file)", str(func(c *Config) *string { return &c.Broker.Kafka.SASL.Password })},
		{"CUSTODY_GRAPHQL_READS_MAX_CONCURRENT", "graphql.reads.max_concurrent", integer(func(c *Config) *int { return &c.GraphQL.Reads.MaxConcurrent })},
		{"CUSTODY_GRAPHQL_READS_MAX_QUEUED", "graphql.reads.max_queued", integer(func(c *Config) *int {
			if c.GraphQL.Reads.MaxQueued == nil {
				c.GraphQL.Reads.MaxQueued = new(int)
			}
			return c.GraphQL.Reads.MaxQueued
		})},
		{"CUSTODY_GRAPHQL_READS_MAX_WAIT", "graphql.reads.max_wait", duration(func(c *Config) *time.Duration { return &c.GraphQL.Reads.MaxWait })},
		{"CUSTODY_MASTER_KEY", "security.master_key (base64 of 32 bytes)", str(func(c *Config) *string { return &c.Security.MasterKey })},
		{"CUSTODY_MASTER_KEY_FILE", "security.master_key_file", str(func(c *Config) *string { return &c.Security.MasterKeyFile })},
		{"CUSTODY_PREVIOUS_MASTER_KEYS", "security.previous_master_keys (comma-separated, each base64 of 32 bytes)", func(c *Config, v string) error {
			c.Security.PreviousMasterKeys = splitList(v)
			return nil
		}},
		{"CUSTODY_IDENTIFIER_KEY", "security.identifier_key (base64 of 32 bytes)", str(func(c *Config) *string { return &c.Security.IdentifierKey })},
		{"CUSTODY_IDENTIFIER_KEY_FILE", "security.identifier_key_file", str(func(c *Config) *string { return &c.Security.IdentifierKeyFile })},
	}
}

// splitList splits a comma-separated list, trimming and dropping empties.
func splitList(v string) []string {
	var out []string
	for _, a := range strings.Split(v, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

func (c *Config) applyEnv(environ []string) error {
	env := map[string]string{}
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	var errs []error
	for _, o := range Overrides() {
		v, ok := env[o.Env]
		if !ok || v == "" {
			continue
		}
		if err := o.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("env %s (%s): %w", o.Env, o.Field, err))
		}
	}
	return errors.Join(errs...)
}

// Logger builds the process logger from the log settings.
func (c Config) Logger(w *os.File) *slog.Logger {
	level, _ := ParseLevel(c.Log.Level)
	opts := &slog.HandlerOptions{Level: level}
	if c.Log.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
