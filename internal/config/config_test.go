package config

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"
)

func writeFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "custody.yaml")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestLoad_NoFileGivesValidDefaults(t *testing.T) {
	c, err := Load("", nil)
	if err != nil {
		t.Fatalf("load defaults: %v", err)
	}
	checks := []struct {
		field string
		got   any
		want  any
	}{
		{"data_dir", c.DataDir, "./data"},
		{"dev", c.Dev, false},
		{"log.level", c.Log.Level, "info"},
		{"log.format", c.Log.Format, "json"},
		{"http.addr", c.HTTP.Addr, "127.0.0.1:8080"},
		{"http.read_timeout", c.HTTP.ReadTimeout, 30 * time.Second},
		{"http.write_timeout", c.HTTP.WriteTimeout, 60 * time.Second},
		{"http.shutdown_timeout", c.HTTP.ShutdownTimeout, 20 * time.Second},
		{"clickhouse.transport", c.ClickHouse.Transport, "embedded"},
		{"clickhouse.embedded.connections", c.ClickHouse.Embedded.Connections, 4},
		{"clickhouse.native.compression", c.ClickHouse.Native.Compression, "lz4"},
		{"security.master_key_file", c.Security.MasterKeyFile, filepath.Join("data", "keys", "master.key")},
		{"security.identifier_key_file", c.Security.IdentifierKeyFile, filepath.Join("data", "keys", "identifier.key")},
		{"security.generate_keys", c.Security.GenerateKeys != nil && *c.Security.GenerateKeys, true},
		{"graphql.reads.max_concurrent", c.GraphQL.Reads.MaxConcurrent, min(2*runtime.GOMAXPROCS(0), 4)},
		{"graphql.reads.max_queued", c.GraphQL.Reads.MaxQueued != nil && *c.GraphQL.Reads.MaxQueued == 64, true},
		{"graphql.reads.max_wait", c.GraphQL.Reads.MaxWait, 5 * time.Second},
		{"graphql.reads.max_threads", c.GraphQL.Reads.MaxThreads, 1},
		{"graphql.reads.priority", c.GraphQL.Reads.Priority, 10},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s = %#v, want %#v", ch.field, ch.got, ch.want)
		}
	}
	if err := Default().Validate(); err != nil {
		t.Errorf("Default() does not validate: %v", err)
	}
	if d := Default(); !reflect.DeepEqual(d, c) {
		t.Errorf("Load with nothing set differs from Default():\n%+v\n%+v", c, d)
	}
}

func TestLoad_KeyFilesFollowTheDataDir(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		environ []string
	}{
		{"from the file", "data_dir: /var/lib/custody\n", nil},
		{"from the environment", "", []string{"CUSTODY_DATA_DIR=/var/lib/custody"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := ""
			if tt.file != "" {
				path = writeFile(t, tt.file)
			}
			c, err := Load(path, tt.environ)
			if err != nil {
				t.Fatal(err)
			}
			if c.Security.MasterKeyFile != "/var/lib/custody/keys/master.key" || c.Security.IdentifierKeyFile != "/var/lib/custody/keys/identifier.key" {
				t.Errorf("key files %q, %q are not under the data dir", c.Security.MasterKeyFile, c.Security.IdentifierKeyFile)
			}
		})
	}
}

const fullFile = `
data_dir: /srv/custody
dev: true
log: {level: debug, format: text}
http: {addr: "0.0.0.0:9090", read_timeout: 5s, write_timeout: 1m, shutdown_timeout: 2s}
clickhouse:
  transport: native
  embedded: {library_path: /opt/libchdb.so, connections: 8}
  native:
    addrs: ["ch-1:9000", "ch-2:9000"]
    database: custody
    username: custody
    password: secret
    compression: zstd
    tls: true
    ca_file: /etc/ca.pem
  cluster: {name: custody, replicated: true, replica_path: "/t/{table}", replica_name: "{replica}"}
security:
  master_key_file: /keys/master.key
  previous_master_key_files: [/keys/old.key]
  identifier_key_file: /keys/identifier.key
  generate_keys: false
taxonomy:
  extensions: {inkcartridges: ./ink.yaml}
broker:
  mode: nats
  urls: [nats://n1:4222, nats://n2:4222]
  replicas: 3
  kafka:
    brokers: ["k1:9092", "k2:9092"]
    topic: custody.events
    poison_topic: custody.poison
    consumer_group: ingest
    partitions: 24
    replication_factor: 3
    retention: 72h
    client_id: custody-eu
    version: 3.6.0
    max_message_bytes: 2000000
    tls: {enabled: true, ca_file: /etc/kafka/ca.pem, cert_file: /etc/kafka/tls.crt, key_file: /etc/kafka/tls.key}
    sasl: {mechanism: SCRAM-SHA-512, username: custody, password_file: /run/kafka/password}
ingest: {max_body_bytes: 2048, max_events: 50}
graphql:
  reads: {max_concurrent: 3, max_queued: 0, max_wait: 2s, max_threads: 2, priority: 5}
`

func TestLoad_FileOverridesDefaults(t *testing.T) {
	c, err := Load(writeFile(t, fullFile), nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	no, zero := false, 0
	want := Config{
		DataDir: "/srv/custody",
		Dev:     true,
		Log:     LogConfig{Level: "debug", Format: "text"},
		HTTP:    HTTPConfig{Addr: "0.0.0.0:9090", ReadTimeout: 5 * time.Second, WriteTimeout: time.Minute, ShutdownTimeout: 2 * time.Second},
		ClickHouse: ClickHouseConfig{
			Transport: "native",
			Embedded:  EmbeddedConfig{LibraryPath: "/opt/libchdb.so", Connections: 8},
			Native: NativeConfig{Addrs: []string{"ch-1:9000", "ch-2:9000"}, Database: "custody", Username: "custody",
				Password: "secret", Compression: "zstd", TLS: true, CAFile: "/etc/ca.pem"},
			Cluster: ClusterConfig{Name: "custody", Replicated: true, ReplicaPath: "/t/{table}", ReplicaName: "{replica}"},
		},
		Security: SecurityConfig{MasterKeyFile: "/keys/master.key", PreviousMasterKeyFile: []string{"/keys/old.key"},
			IdentifierKeyFile: "/keys/identifier.key", GenerateKeys: &no},
		Taxonomy: TaxonomyConfig{Extensions: map[string]string{"inkcartridges": "./ink.yaml"}},
		Broker: BrokerConfig{Mode: "nats", URLs: []string{"nats://n1:4222", "nats://n2:4222"}, Replicas: 3, MaxLag: 5 * time.Minute,
			Kafka: KafkaConfig{Brokers: []string{"k1:9092", "k2:9092"}, Topic: "custody.events", PoisonTopic: "custody.poison",
				ConsumerGroup: "ingest", Partitions: 24, ReplicationFactor: 3, Retention: 72 * time.Hour, ClientID: "custody-eu",
				Version: "3.6.0", MaxMessageBytes: 2_000_000,
				TLS:  KafkaTLS{Enabled: true, CAFile: "/etc/kafka/ca.pem", CertFile: "/etc/kafka/tls.crt", KeyFile: "/etc/kafka/tls.key"},
				SASL: KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "custody", PasswordFile: "/run/kafka/password"}}},
		Ingest:  IngestConfig{MaxBodyBytes: 2048, MaxEvents: 50},
		GraphQL: GraphQLConfig{Reads: ReadsConfig{MaxConcurrent: 3, MaxQueued: &zero, MaxWait: 2 * time.Second, MaxThreads: 2, Priority: 5}},
	}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("loaded\n%+v\nwant\n%+v", c, want)
	}
}

func TestLoad_PartialFileKeepsOtherDefaults(t *testing.T) {
	c, err := Load(writeFile(t, "log:\n  level: warn\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "warn" || c.Log.Format != "json" || c.HTTP.Addr != "127.0.0.1:8080" || c.DataDir != "./data" {
		t.Errorf("partial file: %+v", c)
	}
}

func TestLoad_EmptyOrCommentOnlyFileGivesDefaults(t *testing.T) {
	for _, text := range []string{"", "\n", "# all settings commented out\n# data_dir: ./data\n"} {
		c, err := Load(writeFile(t, text), nil)
		if err != nil {
			t.Errorf("file %q: %v", text, err)
			continue
		}
		if !reflect.DeepEqual(c, Default()) {
			t.Errorf("file %q: %+v, want the defaults", text, c)
		}
	}
}

func TestLoad_EnvOverridesFile(t *testing.T) {
	path := writeFile(t, fullFile)
	environ := []string{
		"PATH=/usr/bin",
		"CUSTODY_DATA_DIR=/env/data",
		"CUSTODY_DEV=false",
		"CUSTODY_LOG_LEVEL=error",
		"CUSTODY_LOG_FORMAT=json",
		"CUSTODY_HTTP_ADDR=127.0.0.1:1",
		"CUSTODY_CLICKHOUSE_TRANSPORT=embedded",
		"CUSTODY_CHDB_LIB=/env/libchdb.so",
		"CUSTODY_CLICKHOUSE_ADDRS=a:9000,b:9000",
		"CUSTODY_CLICKHOUSE_DATABASE=envdb",
		"CUSTODY_CLICKHOUSE_USERNAME=envuser",
		"CUSTODY_CLICKHOUSE_PASSWORD=p=a=s=s",
		"CUSTODY_MASTER_KEY=bWFzdGVy",
		"CUSTODY_MASTER_KEY_FILE=/env/master.key",
		"CUSTODY_PREVIOUS_MASTER_KEYS=b2xkMQ==, b2xkMg==",
		"CUSTODY_IDENTIFIER_KEY=aWRlbnRpZmllcg==",
		"CUSTODY_IDENTIFIER_KEY_FILE=/env/identifier.key",
		"CUSTODY_BROKER_MODE=embedded",
		"CUSTODY_NATS_URLS=nats://x:4222, nats://y:4222",
		"CUSTODY_BROKER_KAFKA_BROKERS=kx:9092, ky:9092",
		"CUSTODY_BROKER_KAFKA_TOPIC=env.events",
		"CUSTODY_BROKER_KAFKA_CONSUMER_GROUP=env-group",
		"CUSTODY_BROKER_KAFKA_USERNAME=env-user",
		"CUSTODY_BROKER_KAFKA_PASSWORD=s3cr=t",
		"CUSTODY_GRAPHQL_READS_MAX_CONCURRENT=7",
		"CUSTODY_GRAPHQL_READS_MAX_QUEUED=12",
		"CUSTODY_GRAPHQL_READS_MAX_WAIT=750ms",
		"CUSTODY_UNKNOWN=ignored",
	}
	c, err := Load(path, environ)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	checks := []struct {
		env  string
		got  any
		want any
	}{
		{"CUSTODY_DATA_DIR", c.DataDir, "/env/data"},
		{"CUSTODY_DEV", c.Dev, false},
		{"CUSTODY_LOG_LEVEL", c.Log.Level, "error"},
		{"CUSTODY_LOG_FORMAT", c.Log.Format, "json"},
		{"CUSTODY_HTTP_ADDR", c.HTTP.Addr, "127.0.0.1:1"},
		{"CUSTODY_CLICKHOUSE_TRANSPORT", c.ClickHouse.Transport, "embedded"},
		{"CUSTODY_CHDB_LIB", c.ClickHouse.Embedded.LibraryPath, "/env/libchdb.so"},
		{"CUSTODY_CLICKHOUSE_ADDRS", c.ClickHouse.Native.Addrs, []string{"a:9000", "b:9000"}},
		{"CUSTODY_CLICKHOUSE_DATABASE", c.ClickHouse.Native.Database, "envdb"},
		{"CUSTODY_CLICKHOUSE_USERNAME", c.ClickHouse.Native.Username, "envuser"},
		{"CUSTODY_CLICKHOUSE_PASSWORD", c.ClickHouse.Native.Password, "p=a=s=s"},
		{"CUSTODY_MASTER_KEY", c.Security.MasterKey, "bWFzdGVy"},
		{"CUSTODY_MASTER_KEY_FILE", c.Security.MasterKeyFile, "/env/master.key"},
		{"CUSTODY_PREVIOUS_MASTER_KEYS", c.Security.PreviousMasterKeys, []string{"b2xkMQ==", "b2xkMg=="}},
		{"CUSTODY_IDENTIFIER_KEY", c.Security.IdentifierKey, "aWRlbnRpZmllcg=="},
		{"CUSTODY_IDENTIFIER_KEY_FILE", c.Security.IdentifierKeyFile, "/env/identifier.key"},
		{"CUSTODY_BROKER_MODE", c.Broker.Mode, "embedded"},
		{"CUSTODY_NATS_URLS", c.Broker.URLs, []string{"nats://x:4222", "nats://y:4222"}},
		{"CUSTODY_BROKER_KAFKA_BROKERS", c.Broker.Kafka.Brokers, []string{"kx:9092", "ky:9092"}},
		{"CUSTODY_BROKER_KAFKA_TOPIC", c.Broker.Kafka.Topic, "env.events"},
		{"CUSTODY_BROKER_KAFKA_CONSUMER_GROUP", c.Broker.Kafka.ConsumerGroup, "env-group"},
		{"CUSTODY_BROKER_KAFKA_USERNAME", c.Broker.Kafka.SASL.Username, "env-user"},
		{"CUSTODY_BROKER_KAFKA_PASSWORD", c.Broker.Kafka.SASL.Password, "s3cr=t"},
		{"CUSTODY_GRAPHQL_READS_MAX_CONCURRENT", c.GraphQL.Reads.MaxConcurrent, 7},
		{"CUSTODY_GRAPHQL_READS_MAX_QUEUED", *c.GraphQL.Reads.MaxQueued, 12},
		{"CUSTODY_GRAPHQL_READS_MAX_WAIT", c.GraphQL.Reads.MaxWait, 750 * time.Millisecond},
	}
	for _, ch := range checks {
		if !reflect.DeepEqual(ch.got, ch.want) {
			t.Errorf("%s: got %#v, want %#v", ch.env, ch.got, ch.want)
		}
	}
	// Every override the package declares is exercised above.
	if len(checks) != len(Overrides()) {
		t.Errorf("checked %d overrides, Overrides() lists %d", len(checks), len(Overrides()))
	}
	// Settings without an env variable keep the file's value.
	if c.HTTP.ReadTimeout != 5*time.Second || c.ClickHouse.Cluster.Name != "custody" || c.GraphQL.Reads.MaxThreads != 2 {
		t.Errorf("file values lost: %+v", c)
	}
}

func TestLoad_BadNumberEnvNamesTheVariable(t *testing.T) {
	for _, kv := range []string{"CUSTODY_GRAPHQL_READS_MAX_CONCURRENT=four", "CUSTODY_GRAPHQL_READS_MAX_QUEUED=1.5", "CUSTODY_GRAPHQL_READS_MAX_WAIT=5"} {
		_, err := Load("", []string{kv})
		name, value, _ := strings.Cut(kv, "=")
		if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), value) {
			t.Errorf("%s: error %v does not name the variable and value", kv, err)
		}
	}
	// 0 from the environment means no queue, as in the file.
	c, err := Load("", []string{"CUSTODY_GRAPHQL_READS_MAX_QUEUED=0"})
	if err != nil || c.GraphQL.Reads.MaxQueued == nil || *c.GraphQL.Reads.MaxQueued != 0 {
		t.Errorf("CUSTODY_GRAPHQL_READS_MAX_QUEUED=0: %v, %v", c.GraphQL.Reads.MaxQueued, err)
	}
}

// The default of graphql.reads.max_concurrent follows the processors and
// the transport: twice the processors, and with the embedded engine no
// more than its connections.
func TestReadsDefaults_FollowTheMachineAndTheTransport(t *testing.T) {
	for _, tc := range []struct {
		transport   string
		connections int
		procs       int
		want        int
	}{
		{"embedded", 4, 2, 4},
		{"embedded", 4, 16, 4},
		{"embedded", 16, 4, 8},
		{"embedded", 1, 8, 1},
		{"embedded", 4, 1, 2},
		{"native", 0, 1, 2},
		{"native", 0, 8, 16},
	} {
		var r ReadsConfig
		r.setDefaults(ClickHouseConfig{Transport: tc.transport, Embedded: EmbeddedConfig{Connections: tc.connections}}, tc.procs)
		if r.MaxConcurrent != tc.want {
			t.Errorf("%s, %d connections, %d processors: max_concurrent %d, want %d", tc.transport, tc.connections, tc.procs, r.MaxConcurrent, tc.want)
		}
	}
	// Set values stay, 0 for max_queued included.
	zero := 0
	r := ReadsConfig{MaxConcurrent: 9, MaxQueued: &zero, MaxWait: time.Second, MaxThreads: 2, Priority: 3}
	want := r
	r.setDefaults(ClickHouseConfig{Transport: "embedded", Embedded: EmbeddedConfig{Connections: 4}}, 2)
	if !reflect.DeepEqual(r, want) {
		t.Errorf("set values changed: %+v, want %+v", r, want)
	}
}

func TestLoad_EmptyEnvValueDoesNotOverride(t *testing.T) {
	c, err := Load(writeFile(t, "log: {level: debug}\n"), []string{"CUSTODY_LOG_LEVEL=", "CUSTODY_DEV"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Log.Level != "debug" {
		t.Errorf("log.level = %q, want the file's debug", c.Log.Level)
	}
}

func TestLoad_AddrsFromEnvAreTrimmed(t *testing.T) {
	c, err := Load("", []string{"CUSTODY_CLICKHOUSE_TRANSPORT=native", "CUSTODY_CLICKHOUSE_ADDRS= ch-1:9000 , ch-2:9000,"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"ch-1:9000", "ch-2:9000"}; !reflect.DeepEqual(c.ClickHouse.Native.Addrs, want) {
		t.Errorf("addrs %q, want %q", c.ClickHouse.Native.Addrs, want)
	}
}

func TestLoad_BadBooleanEnvNamesTheVariable(t *testing.T) {
	for _, v := range []string{"maybe", "yes", "on", "2"} {
		_, err := Load("", []string{"CUSTODY_DEV=" + v})
		if err == nil {
			t.Errorf("CUSTODY_DEV=%s accepted", v)
			continue
		}
		if !strings.Contains(err.Error(), "CUSTODY_DEV") || !strings.Contains(err.Error(), v) {
			t.Errorf("CUSTODY_DEV=%s: error %q does not name the variable and value", v, err)
		}
	}
	for _, v := range []string{"true", "1", "TRUE", "t"} {
		c, err := Load("", []string{"CUSTODY_DEV=" + v})
		if err != nil || !c.Dev {
			t.Errorf("CUSTODY_DEV=%s: dev=%v, %v", v, c.Dev, err)
		}
	}
}

func TestLoad_FileErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"unknown top-level key", "data_dir: ./d\nlog_level: debug\n", []string{"log_level"}},
		{"unknown nested key", "clickhouse:\n  native:\n    adresses: [a]\n", []string{"adresses"}},
		{"wrong type", "http: {read_timeout: soon}\n", []string{"soon"}},
		{"not YAML", "data_dir: [unclosed\n", []string{"custody.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.text)
			_, err := Load(path, nil)
			if err == nil {
				t.Fatal("load succeeded")
			}
			for _, w := range append(tt.want, path) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoad_MissingFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "absent.yaml")
	_, err := Load(path, nil)
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("load of a missing file: %v, want ErrNotExist", err)
	}
}

func TestLoad_InvalidConfigIsReportedAfterOverrides(t *testing.T) {
	_, err := Load(writeFile(t, "log: {level: debug}\n"), []string{"CUSTODY_LOG_LEVEL=loud", "CUSTODY_CLICKHOUSE_TRANSPORT=native"})
	if err == nil {
		t.Fatal("invalid configuration loaded")
	}
	for _, w := range []string{"log.level", "loud", "clickhouse.native.addrs"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not contain %q", err, w)
		}
	}
}

func TestValidate_ReportsEveryBadFieldByItsYAMLPath(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // YAML paths, each must appear; no others may
	}{
		{"bad log level", func(c *Config) { c.Log.Level = "verbose" }, []string{"log.level"}},
		{"bad log format", func(c *Config) { c.Log.Format = "xml" }, []string{"log.format"}},
		{"unknown transport", func(c *Config) { c.ClickHouse.Transport = "foo" }, []string{"clickhouse.transport"}},
		{"native without addrs", func(c *Config) { c.ClickHouse.Transport = "native" }, []string{"clickhouse.native.addrs"}},
		{"replicated without cluster name", func(c *Config) { c.ClickHouse.Cluster.Replicated = true }, []string{"clickhouse.cluster.name"}},
		{"sharded without a replicated cluster", func(c *Config) {
			c.ClickHouse.Transport, c.ClickHouse.Native.Addrs = "native", []string{"ch:9000"}
			c.ClickHouse.Cluster = ClusterConfig{Name: "custody", Sharded: true}
		}, []string{"clickhouse.cluster.sharded"}},
		{"sharded without a cluster name", func(c *Config) {
			c.ClickHouse.Transport, c.ClickHouse.Native.Addrs = "native", []string{"ch:9000"}
			c.ClickHouse.Cluster = ClusterConfig{Sharded: true}
		}, []string{"clickhouse.cluster.sharded"}},
		{"sharded on the embedded engine", func(c *Config) {
			c.ClickHouse.Cluster = ClusterConfig{Name: "custody", Replicated: true, Sharded: true}
		}, []string{"clickhouse.cluster.sharded"}},
		{"no connections", func(c *Config) { c.ClickHouse.Embedded.Connections = 0 }, []string{"clickhouse.embedded.connections"}},
		{"too many connections", func(c *Config) { c.ClickHouse.Embedded.Connections = 65 }, []string{"clickhouse.embedded.connections"}},
		{"negative connections", func(c *Config) { c.ClickHouse.Embedded.Connections = -1 }, []string{"clickhouse.embedded.connections"}},
		{"no data dir", func(c *Config) { c.DataDir = "" }, []string{"data_dir"}},
		{"no http addr", func(c *Config) { c.HTTP.Addr = "" }, []string{"http.addr"}},
		{"no master key", func(c *Config) { c.Security.MasterKeyFile = "" }, []string{"security.master_key_file"}},
		{"no identifier key", func(c *Config) { c.Security.IdentifierKeyFile = "" }, []string{"security.identifier_key_file"}},
		{"negative read concurrency", func(c *Config) { c.GraphQL.Reads.MaxConcurrent = -1 }, []string{"graphql.reads.max_concurrent"}},
		{"read concurrency not defaulted", func(c *Config) { c.GraphQL.Reads.MaxConcurrent = 0 }, []string{"graphql.reads.max_concurrent"}},
		{"too many concurrent reads", func(c *Config) { c.GraphQL.Reads.MaxConcurrent = 1025 }, []string{"graphql.reads.max_concurrent"}},
		{"negative read queue", func(c *Config) { n := -1; c.GraphQL.Reads.MaxQueued = &n }, []string{"graphql.reads.max_queued"}},
		{"no read queue set", func(c *Config) { c.GraphQL.Reads.MaxQueued = nil }, []string{"graphql.reads.max_queued"}},
		{"negative read wait", func(c *Config) { c.GraphQL.Reads.MaxWait = -time.Second }, []string{"graphql.reads.max_wait"}},
		{"read wait under a millisecond", func(c *Config) { c.GraphQL.Reads.MaxWait = time.Microsecond }, []string{"graphql.reads.max_wait"}},
		{"negative read threads", func(c *Config) { c.GraphQL.Reads.MaxThreads = -2 }, []string{"graphql.reads.max_threads"}},
		{"too many read threads", func(c *Config) { c.GraphQL.Reads.MaxThreads = 257 }, []string{"graphql.reads.max_threads"}},
		{"negative read priority", func(c *Config) { c.GraphQL.Reads.Priority = -1 }, []string{"graphql.reads.priority"}},
		{"every read setting at once", func(c *Config) {
			n := -3
			c.GraphQL.Reads = ReadsConfig{MaxConcurrent: -1, MaxQueued: &n, MaxWait: -1, MaxThreads: -1, Priority: -1}
		}, []string{"graphql.reads.max_concurrent", "graphql.reads.max_queued", "graphql.reads.max_wait", "graphql.reads.max_threads", "graphql.reads.priority"}},
		{"everything at once", func(c *Config) {
			c.Log.Level = "verbose"
			c.Log.Format = "xml"
			c.ClickHouse.Transport = "foo"
			c.ClickHouse.Cluster.Replicated = true
			c.DataDir = ""
			c.HTTP.Addr = ""
			c.Security.MasterKeyFile = ""
			c.Security.IdentifierKeyFile = ""
		}, []string{"log.level", "log.format", "clickhouse.transport", "clickhouse.cluster.name", "data_dir", "http.addr",
			"security.master_key_file", "security.identifier_key_file"}},
		{"native and replicated both broken", func(c *Config) {
			c.ClickHouse.Transport = "native"
			c.ClickHouse.Cluster.Replicated = true
			c.Log.Format = ""
		}, []string{"clickhouse.native.addrs", "clickhouse.cluster.name", "log.format"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("invalid configuration validated")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, "config "+w+": ") {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem reported for %s in:\n%v", w, err)
				}
			}
		})
	}
}

func TestValidate_AcceptsEveryGoodValue(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"each log level", func(c *Config) { c.Log.Level = "debug" }},
		{"warn", func(c *Config) { c.Log.Level = "warn" }},
		{"error", func(c *Config) { c.Log.Level = "error" }},
		{"text format", func(c *Config) { c.Log.Format = "text" }},
		{"one connection", func(c *Config) { c.ClickHouse.Embedded.Connections = 1 }},
		{"64 connections", func(c *Config) { c.ClickHouse.Embedded.Connections = 64 }},
		{"native with addrs", func(c *Config) {
			c.ClickHouse.Transport = "native"
			c.ClickHouse.Native.Addrs = []string{"127.0.0.1:9000"}
		}},
		{"native ignores embedded connections", func(c *Config) {
			c.ClickHouse.Transport = "native"
			c.ClickHouse.Native.Addrs = []string{"127.0.0.1:9000"}
			c.ClickHouse.Embedded.Connections = 0
		}},
		{"replicated cluster", func(c *Config) { c.ClickHouse.Cluster = ClusterConfig{Name: "custody", Replicated: true} }},
		{"sharded replicated cluster on the native transport", func(c *Config) {
			c.ClickHouse.Transport, c.ClickHouse.Native.Addrs = "native", []string{"ch:9000"}
			c.ClickHouse.Cluster = ClusterConfig{Name: "custody", Replicated: true, Sharded: true}
		}},
		{"reads without a queue", func(c *Config) { n := 0; c.GraphQL.Reads.MaxQueued = &n }},
		{"reads at the bounds", func(c *Config) {
			n := 100_000
			c.GraphQL.Reads = ReadsConfig{MaxConcurrent: 1024, MaxQueued: &n, MaxWait: 10 * time.Minute, MaxThreads: 256, Priority: 1}
		}},
		{"one read at a time", func(c *Config) {
			n := 1
			c.GraphQL.Reads = ReadsConfig{MaxConcurrent: 1, MaxQueued: &n, MaxWait: time.Millisecond, MaxThreads: 1, Priority: 1_000_000}
		}},
		{"keys from env only", func(c *Config) {
			c.Security.MasterKeyFile, c.Security.MasterKey = "", "bWFzdGVy"
			c.Security.IdentifierKeyFile, c.Security.IdentifierKey = "", "aWQ="
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("valid configuration rejected: %v", err)
			}
		})
	}
}

func TestOverrides_ListsUniqueCustodyVariablesWithFields(t *testing.T) {
	seen := map[string]bool{}
	for _, o := range Overrides() {
		if !strings.HasPrefix(o.Env, "CUSTODY_") {
			t.Errorf("%s does not start with CUSTODY_", o.Env)
		}
		if seen[o.Env] {
			t.Errorf("%s listed twice", o.Env)
		}
		seen[o.Env] = true
		if o.Field == "" || o.set == nil {
			t.Errorf("%s has no field or setter", o.Env)
		}
	}
	if len(seen) == 0 {
		t.Fatal("no overrides")
	}
}

func TestParseLevel(t *testing.T) {
	for _, s := range []string{"debug", "info", "warn", "error", "INFO", "Debug"} {
		if _, err := ParseLevel(s); err != nil {
			t.Errorf("ParseLevel(%q): %v", s, err)
		}
	}
	for _, s := range []string{"", "verbose", "trace", "fatal"} {
		if _, err := ParseLevel(s); err == nil || !strings.Contains(err.Error(), "want debug, info, warn or error") {
			t.Errorf("ParseLevel(%q) = %v, want an error listing the levels", s, err)
		}
	}
}

func TestValidate_RejectsUnknownCompressionAndUnsafeClusterNames(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		mutate      func(*Config)
	}{
		{"compression", "clickhouse.native.compression", func(c *Config) { c.ClickHouse.Native.Compression = "gzip" }},
		{"cluster name", "clickhouse.cluster.name", func(c *Config) { c.ClickHouse.Cluster.Name = "c; DROP" }},
		{"cluster name digit first", "clickhouse.cluster.name", func(c *Config) { c.ClickHouse.Cluster.Name = "1c" }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			err := c.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
	c := Default()
	c.ClickHouse.Cluster.Name = "custody_cluster1"
	if err := c.Validate(); err != nil {
		t.Fatalf("a plain cluster name was rejected: %v", err)
	}
}

func TestValidate_BrokerAndIngestSettings(t *testing.T) {
	for _, tc := range []struct {
		name, field string
		mutate      func(*Config)
	}{
		{"unknown mode", "broker.mode", func(c *Config) { c.Broker.Mode = "kafka-ish" }},
		{"kafka without brokers", "broker.kafka.brokers", func(c *Config) { c.Broker.Mode = "kafka" }},
		{"nats without urls", "broker.urls", func(c *Config) { c.Broker.Mode = "nats" }},
		{"replicas", "broker.replicas", func(c *Config) { c.Broker.Replicas = 7 }},
		{"tiny body", "ingest.max_body_bytes", func(c *Config) { c.Ingest.MaxBodyBytes = 10 }},
		{"too many events", "ingest.max_events", func(c *Config) { c.Ingest.MaxEvents = 1_000_000 }},
		{"group commit too wide", "ingest.group_commit.concurrency", func(c *Config) { c.Ingest.GroupCommit.Concurrency = 65 }},
		{"group commit negative", "ingest.group_commit.max_events", func(c *Config) { c.Ingest.GroupCommit.MaxEvents = -1 }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := Default()
			tc.mutate(&c)
			if err := c.Validate(); err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
	if c := Default(); c.Broker.Mode != "embedded" {
		t.Fatalf("default broker mode = %q, want embedded", c.Broker.Mode)
	}
}

func TestLoad_ReadsClusterSharded(t *testing.T) {
	path := filepath.Join(t.TempDir(), "custody.yaml")
	yaml := "clickhouse:\n  transport: native\n  native: {addrs: [\"ch:9000\"]}\n  cluster: {name: custody, replicated: true, sharded: true}\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, nil)
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if want := (ClusterConfig{Name: "custody", Replicated: true, Sharded: true}); c.ClickHouse.Cluster != want {
		t.Fatalf("cluster %+v, want %+v", c.ClickHouse.Cluster, want)
	}
}

func kafkaMode(c *Config) {
	c.Broker.Mode = "kafka"
	c.Broker.Kafka.Brokers = []string{"kafka-0:9092", "kafka-1:9092"}
}

func TestValidate_KafkaSettingsNameTheirField(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string // YAML paths, each must appear; no others may
	}{
		{"no brokers", func(c *Config) { c.Broker.Mode = "kafka" }, []string{"broker.kafka.brokers"}},
		{"broker without port", func(c *Config) { kafkaMode(c); c.Broker.Kafka.Brokers = []string{"kafka-0"} }, []string{"broker.kafka.brokers"}},
		{"bad topic", func(c *Config) { kafkaMode(c); c.Broker.Kafka.Topic = "custody events" }, []string{"broker.kafka.topic"}},
		{"poison topic is the topic", func(c *Config) {
			kafkaMode(c)
			c.Broker.Kafka.Topic, c.Broker.Kafka.PoisonTopic = "t", "t"
		}, []string{"broker.kafka.poison_topic"}},
		{"group with a space", func(c *Config) { kafkaMode(c); c.Broker.Kafka.ConsumerGroup = "custody ingest" }, []string{"broker.kafka.consumer_group"}},
		{"negative partitions", func(c *Config) { kafkaMode(c); c.Broker.Kafka.Partitions = -1 }, []string{"broker.kafka.partitions"}},
		{"too many partitions", func(c *Config) { kafkaMode(c); c.Broker.Kafka.Partitions = 10_001 }, []string{"broker.kafka.partitions"}},
		{"replication factor", func(c *Config) { kafkaMode(c); c.Broker.Kafka.ReplicationFactor = 33 }, []string{"broker.kafka.replication_factor"}},
		{"short retention", func(c *Config) { kafkaMode(c); c.Broker.Kafka.Retention = time.Second }, []string{"broker.kafka.retention"}},
		{"tiny messages", func(c *Config) { kafkaMode(c); c.Broker.Kafka.MaxMessageBytes = 1000 }, []string{"broker.kafka.max_message_bytes"}},
		{"cert without key", func(c *Config) { kafkaMode(c); c.Broker.Kafka.TLS.CertFile = "/tls.crt" }, []string{"broker.kafka.tls.cert_file"}},
		{"unknown mechanism", func(c *Config) { kafkaMode(c); c.Broker.Kafka.SASL.Mechanism = "GSSAPI" }, []string{"broker.kafka.sasl.mechanism"}},
		{"mechanism without user", func(c *Config) { kafkaMode(c); c.Broker.Kafka.SASL.Mechanism = "SCRAM-SHA-512" }, []string{"broker.kafka.sasl.username"}},
		{"user without mechanism", func(c *Config) { kafkaMode(c); c.Broker.Kafka.SASL.Username = "custody" }, []string{"broker.kafka.sasl.mechanism"}},
		{"everything at once", func(c *Config) {
			c.Broker.Mode = "kafka"
			c.Broker.Kafka = KafkaConfig{Topic: "a b", Partitions: -2, SASL: KafkaSASL{Mechanism: "PLAIN"}}
		}, []string{"broker.kafka.brokers", "broker.kafka.topic", "broker.kafka.partitions", "broker.kafka.sasl.username"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			err := c.Validate()
			if err == nil {
				t.Fatal("invalid configuration validated")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tt.want) {
				t.Errorf("got %d problems, want %d:\n%v", len(lines), len(tt.want), err)
			}
			for _, w := range tt.want {
				found := false
				for _, l := range lines {
					if strings.HasPrefix(l, "config "+w+": ") {
						found = true
					}
				}
				if !found {
					t.Errorf("no problem reported for %s in:\n%v", w, err)
				}
			}
		})
	}
}

func TestValidate_AcceptsKafkaSettings(t *testing.T) {
	tests := []struct {
		name   string
		mutate func(*Config)
	}{
		{"brokers only (defaults elsewhere)", kafkaMode},
		{"production shape", func(c *Config) {
			kafkaMode(c)
			c.Broker.Kafka.Partitions, c.Broker.Kafka.ReplicationFactor = 24, 3
			c.Broker.Kafka.TLS = KafkaTLS{Enabled: true, CAFile: "/ca.pem"}
			c.Broker.Kafka.SASL = KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "custody", PasswordFile: "/run/secret"}
		}},
		// The password may be missing from the file: custody migrate loads
		// the same configuration without it; the transport asks for it.
		{"sasl without a password yet", func(c *Config) {
			kafkaMode(c)
			c.Broker.Kafka.SASL = KafkaSASL{Mechanism: "PLAIN", Username: "custody"}
		}},
		{"ipv6 broker", func(c *Config) { kafkaMode(c); c.Broker.Kafka.Brokers = []string{"[::1]:9092"} }},
		{"kafka block ignored in another mode", func(c *Config) { c.Broker.Kafka.Partitions = -5 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Default()
			tt.mutate(&c)
			if err := c.Validate(); err != nil {
				t.Errorf("valid configuration rejected: %v", err)
			}
		})
	}
}

func TestKafkaSASL_NeverPrintsThePassword(t *testing.T) {
	s := KafkaSASL{Mechanism: "SCRAM-SHA-512", Username: "custody", Password: "hunter2-secret"}
	c := Default()
	c.Broker.Kafka.SASL = s
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "sasl", s, "broker", c.Broker)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%+v", c), buf.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("password printed: %s", out)
		}
		if !strings.Contains(out, "custody") {
			t.Errorf("user not printed: %s", out)
		}
	}
}
