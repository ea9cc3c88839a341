package native

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/custodyhq/custody/internal/tlsclient"
)

// Defaults applied by Config.setDefaults.
const (
	DefaultDatabase        = "default"
	DefaultUsername        = "default"
	DefaultCompression     = "lz4"
	DefaultDialTimeout     = 10 * time.Second
	DefaultReadTimeout     = 5 * time.Minute
	DefaultMaxIdleConns    = 5
	DefaultMaxOpenConns    = 10
	DefaultConnMaxLifetime = time.Hour
)

// Config says how to reach a ClickHouse server (or the nodes of a cluster)
// over the native TCP protocol. The zero value of every field but Addrs
// means "use the default".
type Config struct {
	// Addrs are host:port native-protocol endpoints, tried in order.
	Addrs []string
	// Database is the default database (default "default").
	Database string
	// Username (default "default") and Password authenticate the session.
	Username string
	Password string
	// TLS, when non-nil and Enabled, wraps the connection in TLS.
	TLS *TLSConfig
	// Compression of data blocks on the wire: "lz4" (default), "zstd" or
	// "none".
	Compression string
	// DialTimeout bounds connecting (default 10s); ReadTimeout bounds each
	// read from the server (default 5m).
	DialTimeout time.Duration
	ReadTimeout time.Duration
	// Pool sizing: MaxOpenConns (default 10), MaxIdleConns (default 5,
	// at most MaxOpenConns) and ConnMaxLifetime (default 1h).
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	// Settings are ClickHouse settings sent with every query. Servers older
	// than protocol revision 54429 (ClickHouse < 19.x, e.g. 18.16) accept
	// only int and bool values here; New rejects others on such servers.
	Settings map[string]any
}

// TLSConfig is the file-based TLS setup for the native protocol (usually
// port 9440).
type TLSConfig struct {
	Enabled bool
	// CAFile is a PEM bundle to verify the server with; empty means the
	// system roots.
	CAFile string
	// CertFile and KeyFile, both or neither, are a PEM client certificate.
	CertFile string
	KeyFile  string
	// InsecureSkipVerify disables server certificate verification.
	InsecureSkipVerify bool
	// ServerName overrides the name checked against the certificate.
	ServerName string
}

// setDefaults fills every zero field that has a default.
func (c *Config) setDefaults() {
	if c.Database == "" {
		c.Database = DefaultDatabase
	}
	if c.Username == "" {
		c.Username = DefaultUsername
	}
	if c.Compression == "" {
		c.Compression = DefaultCompression
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = DefaultDialTimeout
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = DefaultReadTimeout
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = DefaultMaxOpenConns
		if c.MaxIdleConns > c.MaxOpenConns {
			c.MaxOpenConns = c.MaxIdleConns
		}
	}
	if c.MaxIdleConns == 0 {
		c.MaxIdleConns = min(DefaultMaxIdleConns, c.MaxOpenConns)
	}
	if c.ConnMaxLifetime == 0 {
		c.ConnMaxLifetime = DefaultConnMaxLifetime
	}
}

// Validate reports the first invalid field, by name, after applying
// defaults. It does not touch the network or the file system.
func (c Config) Validate() error {
	c.setDefaults()
	if len(c.Addrs) == 0 {
		return errors.New("native: Config.Addrs: at least one host:port is required")
	}
	for i, a := range c.Addrs {
		if err := validateAddr(a); err != nil {
			return fmt.Errorf("native: Config.Addrs[%d] %q: %w", i, a, err)
		}
	}
	switch c.Compression {
	case "lz4", "zstd", "none":
	default:
		return fmt.Errorf("native: Config.Compression %q: want lz4, zstd or none", c.Compression)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"DialTimeout", c.DialTimeout}, {"ReadTimeout", c.ReadTimeout}, {"ConnMaxLifetime", c.ConnMaxLifetime}} {
		if d.v < 0 {
			return fmt.Errorf("native: Config.%s %v: must not be negative", d.name, d.v)
		}
	}
	if c.MaxOpenConns < 0 {
		return fmt.Errorf("native: Config.MaxOpenConns %d: must not be negative", c.MaxOpenConns)
	}
	if c.MaxIdleConns < 0 {
		return fmt.Errorf("native: Config.MaxIdleConns %d: must not be negative", c.MaxIdleConns)
	}
	if c.MaxIdleConns > c.MaxOpenConns {
		return fmt.Errorf("native: Config.MaxIdleConns %d: exceeds MaxOpenConns %d", c.MaxIdleConns, c.MaxOpenConns)
	}
	if t := c.TLS; t != nil {
		if !t.Enabled && (t.CAFile != "" || t.CertFile != "" || t.KeyFile != "" || t.InsecureSkipVerify || t.ServerName != "") {
			return errors.New("native: Config.TLS: options set but TLS.Enabled is false")
		}
		if (t.CertFile == "") != (t.KeyFile == "") {
			return errors.New("native: Config.TLS: CertFile and KeyFile must be set together")
		}
	}
	for k := range c.Settings {
		if k == "" {
			return errors.New("native: Config.Settings: empty setting name")
		}
	}
	return nil
}

func validateAddr(a string) error {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return errors.New("want host:port")
	}
	if host == "" {
		return errors.New("empty host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}

// tlsConfig builds the crypto/tls configuration, reading the files.
func (t *TLSConfig) tlsConfig() (*tls.Config, error) {
	if t == nil || !t.Enabled {
		return nil, nil
	}
	cfg, err := tlsclient.Config(tlsclient.Files{CAFile: t.CAFile, CertFile: t.CertFile, KeyFile: t.KeyFile})
	if err != nil {
		return nil, fmt.Errorf("native: Config.TLS: %w", err)
	}
	cfg.InsecureSkipVerify = t.InsecureSkipVerify //nolint:gosec // explicit opt-in
	cfg.ServerName = t.ServerName
	return cfg, nil
}
