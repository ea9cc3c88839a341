package kafka

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

func TestConfig_DefaultsAreValid(t *testing.T) {
	c := Config{Brokers: []string{"kafka-0:9092"}}.WithDefaults()
	want := Config{
		Brokers: []string{"kafka-0:9092"}, Topic: "custody.events", PoisonTopic: "custody.events.poison",
		ConsumerGroup: "custody-ingest", Partitions: 12, ReplicationFactor: 1, Retention: 7 * 24 * time.Hour,
		ClientID: "custody", Version: "2.3.0", PublishTimeout: 10 * time.Second, MaxMessageBytes: 900_000,
		NackDelay: time.Second, MaxInFlight: 4,
	}
	if fmt.Sprint(c) != fmt.Sprint(want) {
		t.Errorf("defaults\n%+v\nwant\n%+v", c, want)
	}
	if err := c.Validate(); err != nil {
		t.Errorf("defaults do not validate: %v", err)
	}
	if c := (Config{Brokers: []string{"k:9092"}, Topic: "orders"}).WithDefaults(); c.PoisonTopic != "orders.poison" {
		t.Errorf("poison topic %q, want orders.poison", c.PoisonTopic)
	}
}

func TestConfig_ValidateNamesEveryBadField(t *testing.T) {
	valid := func(c *Config) { c.Brokers = []string{"kafka-0:9092", "[::1]:9093"} }
	tests := []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"no brokers", func(c *Config) {}, []string{"brokers"}},
		{"broker without port", func(c *Config) { c.Brokers = []string{"kafka-0"} }, []string{"brokers"}},
		{"broker with a bad port", func(c *Config) { c.Brokers = []string{"kafka-0:99999"} }, []string{"brokers"}},
		{"topic with a space", func(c *Config) { valid(c); c.Topic, c.PoisonTopic = "custody events", "p" }, []string{"topic"}},
		{"topic too long", func(c *Config) { valid(c); c.Topic, c.PoisonTopic = strings.Repeat("t", 250), "p" }, []string{"topic"}},
		{"poison topic with a slash", func(c *Config) { valid(c); c.PoisonTopic = "custody/poison" }, []string{"poison_topic"}},
		{"poison topic is the topic", func(c *Config) { valid(c); c.PoisonTopic = DefaultTopic }, []string{"poison_topic"}},
		{"group with a space", func(c *Config) { valid(c); c.ConsumerGroup = "custody ingest" }, []string{"consumer_group"}},
		{"negative partitions", func(c *Config) { valid(c); c.Partitions = -1 }, []string{"partitions"}},
		{"replication factor", func(c *Config) { valid(c); c.ReplicationFactor = 40 }, []string{"replication_factor"}},
		{"short retention", func(c *Config) { valid(c); c.Retention = time.Second }, []string{"retention"}},
		{"version not a version", func(c *Config) { valid(c); c.Version = "latest" }, []string{"version"}},
		{"version too old for Kafka 4", func(c *Config) { valid(c); c.Version = "0.11.0" }, []string{"version"}},
		{"cert without key", func(c *Config) { valid(c); c.TLS.CertFile = "/c.pem" }, []string{"tls.cert_file"}},
		{"unknown mechanism", func(c *Config) { valid(c); c.SASL = SASL{Mechanism: "GSSAPI", Username: "u", Password: "p"} }, []string{"sasl.mechanism"}},
		{"password without mechanism", func(c *Config) { valid(c); c.SASL.Password = "p" }, []string{"sasl.mechanism"}},
		{"mechanism without user or password", func(c *Config) { valid(c); c.SASL.Mechanism = MechanismSCRAMSHA512 }, []string{"sasl.username", "sasl.password_file"}},
		{"publish timeout", func(c *Config) { valid(c); c.PublishTimeout = time.Millisecond }, []string{"publish_timeout"}},
		{"message limit", func(c *Config) { valid(c); c.MaxMessageBytes = 100 }, []string{"max_message_bytes"}},
		{"negative nack delay", func(c *Config) { valid(c); c.NackDelay = -time.Second }, []string{"nack_delay"}},
		{"in flight", func(c *Config) { valid(c); c.MaxInFlight = -1 }, []string{"max_in_flight"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var c Config
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
				if !strings.Contains(err.Error(), "broker.kafka."+w+": ") {
					t.Errorf("no problem reported for broker.kafka.%s in:\n%v", w, err)
				}
			}
		})
	}
}

// The producer and consumer settings the package's contracts rest on.
func TestConfig_SaramaSettingsBackTheContracts(t *testing.T) {
	c := Config{Brokers: []string{"k:9092"}}.WithDefaults()
	sc, err := c.sarama(roleSubscriber)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what      string
		got, want any
	}{
		{"acks from every in-sync replica", sc.Producer.RequiredAcks, sarama.WaitForAll},
		{"idempotent producer", sc.Producer.Idempotent, true},
		{"one request in flight (idempotence)", sc.Net.MaxOpenRequests, 1},
		{"a new group starts at the oldest message", sc.Consumer.Offsets.Initial, sarama.OffsetOldest},
		{"marked offsets are committed", sc.Consumer.Offsets.AutoCommit.Enable, true},
		{"protocol level", sc.Version, sarama.V2_3_0_0},
		{"producer limit above the sink's", sc.Producer.MaxMessageBytes > c.MaxMessageBytes, true},
		{"client id names the role", sc.ClientID, "custody-subscriber"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: %v, want %v", ch.what, ch.got, ch.want)
		}
	}
}

func TestSASL_PasswordNeverPrinted(t *testing.T) {
	s := SASL{Mechanism: MechanismSCRAMSHA512, Username: "custody", Password: "hunter2-secret"}
	c := Config{Brokers: []string{"k:9092"}, SASL: s}
	var buf strings.Builder
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("kafka", "sasl", s, "config", c)
	for _, out := range []string{fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%+v", c), buf.String()} {
		if strings.Contains(out, "hunter2") {
			t.Errorf("password printed: %s", out)
		}
	}
}

func TestSASL_PasswordFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, contents, want string
		wantErr              bool
	}{
		{"trailing newline removed", "s3cret\n", "s3cret", false},
		{"crlf removed", "s3cret\r\n", "s3cret", false},
		{"inner spaces kept", " s3 cret ", " s3 cret ", false},
		{"empty file", "\n", "", true},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, fmt.Sprint(i))
			if err := os.WriteFile(path, []byte(tt.contents), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := SASL{Mechanism: MechanismPlain, Username: "u", PasswordFile: path}.password()
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("password() = %q, %v; want %q (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	if _, err := (SASL{PasswordFile: filepath.Join(dir, "absent")}).password(); err == nil {
		t.Error("a missing password file gave a password")
	}
	got, err := SASL{Password: "from-env", PasswordFile: filepath.Join(dir, "absent")}.password()
	if err != nil || got != "from-env" {
		t.Errorf("the environment's password does not win over the file: %q, %v", got, err)
	}
}
