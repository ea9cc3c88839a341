package sdk

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/custodyhq/custody/internal/event"
	"github.com/custodyhq/custody/internal/identity"
	"github.com/custodyhq/custody/internal/taxonomy"
	"github.com/custodyhq/custody/schema"
)

// Defaults and limits of Config.
const (
	DefaultBatchSize     = 500
	MaxBatchSize         = 10_000 // the server's default per-request limit
	DefaultMaxBatchBytes = 4 << 20
	DefaultFlushInterval = time.Second
	DefaultBufferSize    = 10_000
	DefaultMaxRetries    = 8
	DefaultRetryBase     = 200 * time.Millisecond
	DefaultRetryMax      = 30 * time.Second
	DefaultSendTimeout   = 30 * time.Second
)

// Config configures a Client. Only Source is required; zero values take the
// defaults above.
type Config struct {
	// Source names the emitting service (e.g. "checkout-service"); events
	// without a source get it. Required.
	Source string
	// Tenant is the business or brand of events without one. Default
	// "default".
	Tenant string

	// BatchSize is the most events per delivery (default 500, at most
	// 10,000). A batch is sent as soon as it is full, or when its oldest
	// event has waited FlushInterval.
	BatchSize int
	// MaxBatchBytes caps a batch's encoded size (default 4 MiB, below the
	// server's 10 MiB request limit). A single event larger than this is
	// still sent, alone.
	MaxBatchBytes int
	// FlushInterval is the longest an event waits for its batch to fill
	// (default 1 s).
	FlushInterval time.Duration
	// BufferSize caps events emitted but not yet delivered or failed
	// (default 10,000; at least BatchSize). When it is full Emit returns
	// ErrBufferFull at once rather than wait.
	BufferSize int

	// MaxRetries is how often a batch is retried after a retryable failure
	// before it fails (default 8; negative: never retry).
	MaxRetries int
	// RetryBase and RetryMax shape the backoff: before retry n (from 0) the
	// client sleeps a random duration in [0, min(RetryMax, RetryBase·2ⁿ)]
	// ("full jitter"), or longer when the server asked for it with
	// Retry-After, though never longer than RetryMax. Defaults 200 ms, 30 s.
	RetryBase time.Duration
	RetryMax  time.Duration
	// SendTimeout bounds one delivery attempt (default 30 s).
	SendTimeout time.Duration

	// SkipTaxonomy turns off the client-side check of taxonomy terms
	// (categories, purposes, kinds, …) against the built-in taxonomy, for
	// tenants whose extensions live only on the server. Structure and
	// identifiers are always checked. With BrokerTransport keep it off:
	// events published to the broker skip the HTTP ingest's checks.
	SkipTaxonomy bool
	// TaxonomyExtensions adds tenants' own terms to the built-in taxonomy
	// for the client-side check, keyed by tenant (see
	// LoadTaxonomyExtension).
	TaxonomyExtensions map[string]TaxonomyExtension
	// PhoneRegions maps a tenant to its default phone region (US, CA or
	// GB), as the server's tenants.<tenant>.default_phone_region: that
	// tenant's phone identifiers written without a country code are read
	// as national numbers of the region and sent in E.164. Other phones
	// without a country code are refused here, as the server would.
	PhoneRegions map[string]string

	// OnError receives every asynchronous delivery failure, a
	// *DeliveryError naming the events concerned. It runs on the client's
	// sender goroutine and must not block. Default: log with slog.Default.
	OnError func(error)

	// Test hooks; nil in production.
	sleep  func(context.Context, time.Duration) error
	jitter func(ceiling time.Duration) time.Duration
}

var tenantPattern = regexp.MustCompile(`^[a-z0-9_-]{1,64}$`)

// withDefaults returns c with every zero value replaced by its default.
func (c Config) withDefaults() Config {
	if c.Tenant == "" {
		c.Tenant = DefaultTenant
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.MaxBatchBytes == 0 {
		c.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = DefaultFlushInterval
	}
	if c.BufferSize == 0 {
		c.BufferSize = max(DefaultBufferSize, c.BatchSize)
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = DefaultMaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.RetryBase == 0 {
		c.RetryBase = DefaultRetryBase
	}
	if c.RetryMax == 0 {
		c.RetryMax = max(DefaultRetryMax, c.RetryBase)
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = DefaultSendTimeout
	}
	if c.sleep == nil {
		c.sleep = sleep
	}
	if c.jitter == nil {
		c.jitter = fullJitter
	}
	return c
}

// Validate reports every setting that cannot work, after defaults.
func (c Config) Validate() error {
	_, err := c.build()
	return err
}

// build validates c and returns the validation options it implies.
func (c Config) build() (event.Options, error) {
	d := c.withDefaults()
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("sdk: "+format, args...)) }
	switch {
	case strings.TrimSpace(d.Source) == "":
		bad("Config.Source is required: name the service that emits the events")
	case strings.TrimSpace(d.Source) != d.Source || len(d.Source) > event.MaxStringBytes:
		bad("Config.Source must have no surrounding spaces and at most %d bytes", event.MaxStringBytes)
	}
	if !tenantPattern.MatchString(d.Tenant) {
		bad("Config.Tenant must be 1–64 lower-case letters, digits, `_` or `-`, got %q", d.Tenant)
	}
	if d.BatchSize < 1 || d.BatchSize > MaxBatchSize {
		bad("Config.BatchSize must be between 1 and %d, got %d", MaxBatchSize, d.BatchSize)
	}
	if d.MaxBatchBytes < 1 {
		bad("Config.MaxBatchBytes must be positive, got %d", d.MaxBatchBytes)
	}
	if d.FlushInterval < 0 {
		bad("Config.FlushInterval must not be negative, got %s", d.FlushInterval)
	}
	if d.BufferSize < d.BatchSize {
		bad("Config.BufferSize (%d) must be at least BatchSize (%d)", d.BufferSize, d.BatchSize)
	}
	if d.RetryBase < 0 || d.RetryMax < 0 || d.SendTimeout < 0 {
		bad("Config.RetryBase, RetryMax and SendTimeout must not be negative")
	} else if d.RetryMax < d.RetryBase {
		bad("Config.RetryMax (%s) must be at least RetryBase (%s)", d.RetryMax, d.RetryBase)
	}
	opts := event.Options{Vocabulary: event.AnyTerm, PhoneRegions: d.PhoneRegions}
	for tenant, region := range d.PhoneRegions {
		if !identity.KnownPhoneRegion(region) {
			bad("Config.PhoneRegions[%q]: %q is not a supported phone region (%s)", tenant, region, strings.Join(identity.PhoneRegions(), ", "))
		}
	}
	if !d.SkipTaxonomy || len(d.TaxonomyExtensions) > 0 {
		tax, err := loadTaxonomy(d.TaxonomyExtensions)
		if err != nil {
			errs = append(errs, err)
		} else if !d.SkipTaxonomy {
			opts.Vocabulary = tax
		}
	}
	return opts, errors.Join(errs...)
}

// builtinTaxonomy is loaded once; a Taxonomy is immutable.
var builtinTaxonomy = sync.OnceValues(func() (*taxonomy.Taxonomy, error) {
	return taxonomy.Load(schema.Taxonomy())
})

// loadTaxonomy returns the built-in taxonomy with the tenants' extensions.
func loadTaxonomy(exts map[string]TaxonomyExtension) (*taxonomy.Taxonomy, error) {
	tax, err := builtinTaxonomy()
	if err != nil {
		return nil, fmt.Errorf("sdk: built-in taxonomy: %w", err)
	}
	for tenant, ext := range exts {
		if tax, err = tax.WithExtension(tenant, ext); err != nil {
			return nil, fmt.Errorf("sdk: Config.TaxonomyExtensions[%q]: %w", tenant, err)
		}
	}
	return tax, nil
}

// backoff returns how long to wait before retry n (from 0): full jitter
// under min(RetryMax, RetryBase·2ⁿ), at least retryAfter, at most RetryMax.
func (c *Config) backoff(n int, retryAfter time.Duration) time.Duration {
	ceiling := c.RetryMax
	if n < 62 && c.RetryBase <= c.RetryMax>>n {
		ceiling = c.RetryBase << n
	}
	d := c.jitter(ceiling)
	if retryAfter > d {
		d = retryAfter
	}
	return min(d, c.RetryMax)
}

func fullJitter(ceiling time.Duration) time.Duration {
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
