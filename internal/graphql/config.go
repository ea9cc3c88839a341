package graphql

import (
	"errors"
	"fmt"
	"time"
)

// Config tunes the handler. The zero value is usable: every field has a
// default.
type Config struct {
	// Dev enables introspection and the GraphiQL playground
	// (/graphql/play). Never in production: introspection hands the whole
	// schema to anyone holding a token.
	Dev bool
	// ComplexityLimit is the most an operation may cost: one per field,
	// times `first` for paginated lists. Default 500.
	ComplexityLimit int
	// DepthLimit is the deepest selection an operation may nest, fragments
	// followed. Default 12.
	DepthLimit int
	// RequestTimeout bounds one request, reads and audit included. Default
	// 30s.
	RequestTimeout time.Duration
	// MaxBodyBytes caps a request body. Default 1 MiB.
	MaxBodyBytes int64
}

// Defaults.
const (
	DefaultComplexityLimit = 500
	DefaultDepthLimit      = 12
	DefaultRequestTimeout  = 30 * time.Second
	DefaultMaxBodyBytes    = 1 << 20
)

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.ComplexityLimit == 0 {
		c.ComplexityLimit = DefaultComplexityLimit
	}
	if c.DepthLimit == 0 {
		c.DepthLimit = DefaultDepthLimit
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = DefaultRequestTimeout
	}
	if c.MaxBodyBytes == 0 {
		c.MaxBodyBytes = DefaultMaxBodyBytes
	}
	return c
}

// Validate names every field that cannot work.
func (c Config) Validate() error {
	var errs []error
	if c.ComplexityLimit < 1 {
		errs = append(errs, fmt.Errorf("graphql: complexity_limit: must be at least 1, got %d", c.ComplexityLimit))
	}
	if c.DepthLimit < 2 {
		// Depth 1 would allow no field of any object.
		errs = append(errs, fmt.Errorf("graphql: depth_limit: must be at least 2, got %d", c.DepthLimit))
	}
	if c.RequestTimeout < time.Second {
		errs = append(errs, fmt.Errorf("graphql: request_timeout: must be at least 1s, got %s", c.RequestTimeout))
	}
	if c.MaxBodyBytes < 1<<10 {
		errs = append(errs, fmt.Errorf("graphql: max_body_bytes: must be at least 1024, got %d", c.MaxBodyBytes))
	}
	return errors.Join(errs...)
}
