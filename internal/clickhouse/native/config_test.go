package native

import (
	"context"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/custodyhq/custody/internal/clickhouse"
)

func TestConfigValidate(t *testing.T) {
	ok := Config{Addrs: []string{"127.0.0.1:9000"}}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr string // substring naming the bad field; "" means valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"cluster", func(c *Config) { c.Addrs = []string{"a:9000", "b:9000", "[::1]:9440"} }, ""},
		{"full", func(c *Config) {
			c.Database, c.Username, c.Password = "custody", "u", "p"
			c.Compression = "zstd"
			c.DialTimeout, c.ReadTimeout, c.ConnMaxLifetime = time.Second, time.Minute, time.Hour
			c.MaxOpenConns, c.MaxIdleConns = 4, 4
			c.TLS = &TLSConfig{Enabled: true, CAFile: "/ca.pem", CertFile: "/c.pem", KeyFile: "/k.pem", ServerName: "ch"}
			c.Settings = map[string]any{"max_threads": 2}
		}, ""},
		{"compression none", func(c *Config) { c.Compression = "none" }, ""},
		{"only idle set", func(c *Config) { c.MaxIdleConns = 50 }, ""},
		{"no addrs", func(c *Config) { c.Addrs = nil }, "Config.Addrs"},
		{"addr without port", func(c *Config) { c.Addrs = []string{"localhost"} }, "Config.Addrs[0]"},
		{"addr empty host", func(c *Config) { c.Addrs = []string{"a:9000", ":9000"} }, "Config.Addrs[1]"},
		{"addr bad port", func(c *Config) { c.Addrs = []string{"h:99999"} }, "Config.Addrs[0]"},
		{"addr named port", func(c *Config) { c.Addrs = []string{"h:native"} }, "Config.Addrs[0]"},
		{"compression", func(c *Config) { c.Compression = "gzip" }, "Config.Compression"},
		{"dial timeout", func(c *Config) { c.DialTimeout = -time.Second }, "Config.DialTimeout"},
		{"read timeout", func(c *Config) { c.ReadTimeout = -1 }, "Config.ReadTimeout"},
		{"lifetime", func(c *Config) { c.ConnMaxLifetime = -1 }, "Config.ConnMaxLifetime"},
		{"max open", func(c *Config) { c.MaxOpenConns = -1 }, "Config.MaxOpenConns"},
		{"max idle", func(c *Config) { c.MaxIdleConns = -1 }, "Config.MaxIdleConns"},
		{"idle over open", func(c *Config) { c.MaxOpenConns, c.MaxIdleConns = 2, 3 }, "Config.MaxIdleConns"},
		{"tls disabled with files", func(c *Config) { c.TLS = &TLSConfig{CAFile: "/ca.pem"} }, "Config.TLS"},
		{"tls cert without key", func(c *Config) { c.TLS = &TLSConfig{Enabled: true, CertFile: "/c.pem"} }, "Config.TLS"},
		{"empty setting", func(c *Config) { c.Settings = map[string]any{"": 1} }, "Config.Settings"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := ok
			tt.mutate(&c)
			err := c.Validate()
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Validate() = %v, want error naming %q", err, tt.wantErr)
			}
		})
	}
}

func TestSetDefaults(t *testing.T) {
	c := Config{Addrs: []string{"h:9000"}}
	c.setDefaults()
	if c.Database != "default" || c.Username != "default" || c.Compression != "lz4" ||
		c.DialTimeout != DefaultDialTimeout || c.ReadTimeout != DefaultReadTimeout ||
		c.MaxOpenConns != DefaultMaxOpenConns || c.MaxIdleConns != DefaultMaxIdleConns ||
		c.ConnMaxLifetime != DefaultConnMaxLifetime {
		t.Fatalf("setDefaults: %+v", c)
	}
	c = Config{Addrs: []string{"h:9000"}, MaxOpenConns: 2}
	c.setDefaults()
	if c.MaxIdleConns != 2 {
		t.Fatalf("MaxIdleConns = %d, want 2 (capped by MaxOpenConns)", c.MaxIdleConns)
	}
	c = Config{Addrs: []string{"h:9000"}, MaxIdleConns: 20}
	c.setDefaults()
	if c.MaxOpenConns != 20 {
		t.Fatalf("MaxOpenConns = %d, want 20 (raised to MaxIdleConns)", c.MaxOpenConns)
	}
}

func TestNewInvalidConfig(t *testing.T) {
	_, err := New(context.Background(), Config{})
	if err == nil || !strings.Contains(err.Error(), "Config.Addrs") {
		t.Fatalf("New(empty) = %v, want Config.Addrs error", err)
	}
	_, err = New(context.Background(), Config{Addrs: []string{"127.0.0.1:9"}, TLS: &TLSConfig{Enabled: true, CAFile: "/nonexistent/ca.pem"}})
	if err == nil || !strings.Contains(err.Error(), "Config.TLS: CA file") {
		t.Fatalf("New(missing CA) = %v, want Config.TLS.CAFile error", err)
	}
}

func TestNewRefused(t *testing.T) {
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := New(ctx, Config{Addrs: []string{addr}, DialTimeout: 2 * time.Second})
	if err == nil {
		c.Close()
		t.Fatalf("New(%s) succeeded with nothing listening", addr)
	}
	if !errors.Is(err, clickhouse.ErrUnavailable) {
		t.Fatalf("New(%s) = %v, want ErrUnavailable", addr, err)
	}
	if !strings.Contains(err.Error(), addr) {
		t.Fatalf("error %q does not name the address %s", err, addr)
	}
}

// A Conn that never reached a server still checks its arguments, and
// refuses parameters when the server lacks server-side binding.
func TestArgumentChecksOffline(t *testing.T) {
	c := &Conn{caps: clickhouse.CapabilitiesFor(clickhouse.TransportNative, clickhouse.Version{Major: 18, Minor: 16, Raw: "18.16.1"})}
	ctx := context.Background()
	type row struct {
		ID uint64 `ch:"id"`
	}

	err := c.Exec(ctx, "SELECT {x:UInt8}", clickhouse.Params{"x": 1})
	if !errors.Is(err, clickhouse.ErrUnsupported) {
		t.Fatalf("Exec with params on 18.16 = %v, want ErrUnsupported", err)
	}
	var out []row
	if err := c.Select(ctx, &out, "SELECT {x:UInt8} AS id", clickhouse.Params{"x": 1}); !errors.Is(err, clickhouse.ErrUnsupported) {
		t.Fatalf("Select with params on 18.16 = %v, want ErrUnsupported", err)
	}

	for _, table := range []string{"", "t; DROP TABLE x", "t (a)", "`t`", "a.b.c", "1t", "t-1", "db.", "t\n"} {
		if err := c.Insert(ctx, table, []row{{1}}); !errors.Is(err, clickhouse.ErrBadRows) {
			t.Errorf("Insert(%q) = %v, want ErrBadRows", table, err)
		}
	}
	for _, rows := range []any{nil, 1, row{1}, []int{1}, []*row{nil}, []struct{ X int }{{1}}} {
		if err := c.Insert(ctx, "t", rows); !errors.Is(err, clickhouse.ErrBadRows) {
			t.Errorf("Insert(%T) = %v, want ErrBadRows", rows, err)
		}
	}
	if err := c.Insert(ctx, "db.t", []row{}); err != nil {
		t.Errorf("Insert(empty) = %v, want nil (no-op)", err)
	}
	if err := c.Insert(ctx, "t", []struct {
		A string `ch:"a"`
		B string `ch:"a"`
	}{{}}); !errors.Is(err, clickhouse.ErrBadRows) {
		t.Errorf("Insert(duplicate tags) = %v, want ErrBadRows", err)
	}
	if err := c.Insert(ctx, "t", []struct {
		A string `ch:"a) VALUES (1"`
	}{{}}); !errors.Is(err, clickhouse.ErrBadRows) {
		t.Errorf("Insert(hostile tag) = %v, want ErrBadRows", err)
	}
	for _, dest := range []any{nil, out, &[]int{}, new(int), (*[]row)(nil)} {
		if err := c.Select(ctx, dest, "SELECT 1", nil); !errors.Is(err, clickhouse.ErrBadRows) {
			t.Errorf("Select(%T) = %v, want ErrBadRows", dest, err)
		}
	}
}

func TestFieldsOf(t *testing.T) {
	type Base struct {
		ID uint64 `ch:"id"`
	}
	type row struct {
		Base
		Name    string `ch:"name"`
		Skip    string `ch:"-"`
		Untaged string
		Nested  []string `ch:"n.a"`
	}
	f, err := fieldsOf(reflect.TypeFor[row]())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(f.columns, ","); got != "id,name,n.a" {
		t.Fatalf("columns = %s", got)
	}
	if got := columnList(f.columns); got != "`id`, `name`, `n.a`" {
		t.Fatalf("columnList = %s", got)
	}
}
