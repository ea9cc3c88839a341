package config

import (
	"maps"
	"strings"
	"testing"
	"time"
)

// problems returns the YAML paths Validate names, in order.
func problems(err error) []string {
	if err == nil {
		return nil
	}
	var out []string
	for _, l := range strings.Split(err.Error(), "\n") {
		field, _, _ := strings.Cut(strings.TrimPrefix(l, "config "), ": ")
		out = append(out, field)
	}
	return out
}

// The file from the issue: each bad value is refused, naming its field.
func TestLoad_RefusesBadAddressesAndDurations(t *testing.T) {
	_, err := Load(writeFile(t, "http: {addr: \"not an addr\", write_timeout: 1ns, read_timeout: -5s, shutdown_timeout: -1s}\n"), nil)
	got := problems(err)
	want := []string{"http.addr", "http.read_timeout", "http.write_timeout", "http.shutdown_timeout"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("problems %v, want %v:\n%v", got, want, err)
	}
	for _, w := range []string{`"not an addr" is not host:port`, "read_timeout: must be at least 1s (0 = default 30s), got -5s",
		"write_timeout: must be at least 1s (0 = default 60s), got 1ns", "shutdown_timeout: must be more than 0"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error lacks %q:\n%v", w, err)
		}
	}
	// The environment's address is checked too.
	if _, err := Load("", []string{"CUSTODY_HTTP_ADDR=localhost"}); strings.Join(problems(err), ",") != "http.addr" {
		t.Fatalf("CUSTODY_HTTP_ADDR=localhost: %v", err)
	}
}

func TestValidate_Addresses(t *testing.T) {
	for _, tc := range []struct {
		addr string
		ok   bool
	}{
		{"127.0.0.1:8080", true},
		{":8080", true}, // every interface
		{"0.0.0.0:0", true},
		{"[::1]:8080", true},
		{"[fe80::1%eth0]:8080", true},
		{"localhost:65535", true},
		{"custody-1.internal.example.com:443", true},
		{"not an addr", false},
		{"127.0.0.1", false},
		{"127.0.0.1:", false},
		{"127.0.0.1:65536", false},
		{"127.0.0.1:-1", false},
		{"127.0.0.1:+80", false},
		{"127.0.0.1:http", false},
		{"bad host:80", false},
		{"-host:80", false},
		{"a..b:80", false},
		{"::1:8080", false},
	} {
		c := Default()
		c.HTTP.Addr = tc.addr
		err := c.Validate()
		if tc.ok != (err == nil) || (err != nil && strings.Join(problems(err), ",") != "http.addr") {
			t.Errorf("http.addr %q: %v (want ok=%t)", tc.addr, err, tc.ok)
		}
	}
	// Addresses Custody dials need a host and a port other than 0.
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"native addrs", func(c *Config) {
			c.ClickHouse.Transport = "native"
			c.ClickHouse.Native.Addrs = []string{"ch-1:9000", ":9000", "ch-3:0", "ch 4:9000", "ch-5"}
		}, []string{"clickhouse.native.addrs[1]", "clickhouse.native.addrs[2]", "clickhouse.native.addrs[3]", "clickhouse.native.addrs[4]"}},
		{"kafka brokers", func(c *Config) {
			kafkaMode(c)
			c.Broker.Kafka.Brokers = []string{"kafka-0:9092", "kafka-1:99999", ":9092"}
		}, []string{"broker.kafka.brokers", "broker.kafka.brokers"}},
		{"nats urls", func(c *Config) {
			c.Broker.Mode = "nats"
			c.Broker.URLs = []string{"nats://nats-1:4222", "nats://nats-2", "tls://[::1]:4222", "nats-3:4222", "http://nats-4:4222",
				"nats://nats-5:0", "nats://user:secret@nats 6:4222", "nats://:4222"}
		}, []string{"broker.urls[3]", "broker.urls[4]", "broker.urls[5]", "broker.urls[6]", "broker.urls[7]"}},
	} {
		c := Default()
		tc.mutate(&c)
		err := c.Validate()
		if got := problems(err); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: problems %v, want %v:\n%v", tc.name, got, tc.want, err)
		}
		if err != nil && strings.Contains(err.Error(), "secret") {
			t.Errorf("%s: the message shows a password:\n%v", tc.name, err)
		}
	}
}

func TestValidate_DurationsAndGraphQLLimits(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func(*Config)
		want   []string
	}{
		{"timeouts at their minimums", func(c *Config) {
			c.HTTP.ReadTimeout, c.HTTP.WriteTimeout, c.HTTP.ShutdownTimeout = time.Second, time.Second, time.Millisecond
			c.GraphQL.RequestTimeout = time.Second
		}, nil},
		{"timeouts too short", func(c *Config) {
			c.HTTP.ReadTimeout, c.HTTP.WriteTimeout = 999*time.Millisecond, time.Nanosecond
			c.GraphQL.RequestTimeout = time.Millisecond
		}, []string{"http.read_timeout", "http.write_timeout", "graphql.request_timeout"}},
		{"negative", func(c *Config) {
			c.HTTP.ShutdownTimeout, c.GraphQL.RequestTimeout = -time.Second, -time.Second
		}, []string{"http.shutdown_timeout", "graphql.request_timeout"}},
		{"graphql limits the API refuses", func(c *Config) {
			c.GraphQL.ComplexityLimit, c.GraphQL.DepthLimit, c.GraphQL.MaxBodyBytes = -1, 1, 100
		}, []string{"graphql.complexity_limit", "graphql.depth_limit", "graphql.max_body_bytes"}},
		{"graphql defaults", func(c *Config) { c.GraphQL.ComplexityLimit, c.GraphQL.DepthLimit, c.GraphQL.MaxBodyBytes = 0, 0, 0 }, nil},
	} {
		c := Default()
		tc.mutate(&c)
		if got := problems(c.Validate()); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: problems %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestTenants_DefaultPhoneRegion(t *testing.T) {
	c, err := Load(writeFile(t, `
tenants:
  inkcartridges: {name: Inkcartridges.com, default_phone_region: US}
  teashop: {default_phone_region: gb}
  plain: {name: Plain}
`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.PhoneRegions(), map[string]string{"inkcartridges": "US", "teashop": "gb"}; !maps.Equal(got, want) {
		t.Fatalf("PhoneRegions() = %v, want %v", got, want)
	}
	if got := Default().PhoneRegions(); got != nil {
		t.Fatalf("PhoneRegions() without tenants = %v", got)
	}
	_, err = Load(writeFile(t, "tenants: {ink: {default_phone_region: UK}, tea: {default_phone_region: \"+44\"}}\n"), nil)
	if got := problems(err); strings.Join(got, ",") != "tenants.ink.default_phone_region,tenants.tea.default_phone_region" ||
		!strings.Contains(err.Error(), `"UK" is not a region`) || !strings.Contains(err.Error(), "supported: CA, GB, US") {
		t.Fatalf("unknown regions: %v", err)
	}
}
