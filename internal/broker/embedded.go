package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

// EmbeddedConfig configures the in-process NATS JetStream server of a
// single node. The server opens no listener: its only clients are in the
// same process and connect through Embedded.Config (nats.InProcessServer),
// so no other process on the machine can read the stream or publish to it
// around the HTTP ingest's authentication and validation.
type EmbeddedConfig struct {
	// Dir holds the JetStream file store (required; Custody uses
	// <data_dir>/nats). Streams, consumers and messages survive a restart.
	Dir string
	// ServerName names the server in logs and monitoring (default
	// custody-embedded).
	ServerName string
	// Recheck is how often the server checks that JetStream is on (default
	// 5 s). JetStream switches itself off after a storage write error;
	// the server turns it back on once the store can be opened again, so
	// ingest and the pipeline recover by themselves when the fault clears
	// (meanwhile publishes fail, ingest answers 503 and /readyz is not
	// ready).
	Recheck time.Duration
}

// embeddedMaxPayload raises NATS's default 1 MiB message limit so that a
// batch of large events still fits in one message.
const embeddedMaxPayload = 8 << 20

// EmbeddedMaxMessageBytes is the Sink.MaxMessageBytes that fits the
// embedded server's message limit with room for headers.
const EmbeddedMaxMessageBytes = 6 << 20

// readyTimeout bounds how long StartEmbedded waits for the server.
const readyTimeout = 10 * time.Second

func (c *EmbeddedConfig) setDefaults() {
	if c.Recheck == 0 {
		c.Recheck = 5 * time.Second
	}
	if c.ServerName == "" {
		c.ServerName = "custody-embedded"
	}
}

// Validate reports every invalid field of c with its defaults applied.
func (c EmbeddedConfig) Validate() error {
	c.setDefaults()
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("broker.embedded.dir: is required (the JetStream file store)"))
	}
	if c.Recheck < 10*time.Millisecond {
		errs = append(errs, fmt.Errorf("broker.embedded.recheck: must be at least 10ms, got %s", c.Recheck))
	}
	if !plainName(c.ServerName) {
		errs = append(errs, fmt.Errorf("broker.embedded.server_name: must be a name without spaces, dots or wildcards, got %q", c.ServerName))
	}
	return errors.Join(errs...)
}

// Embedded is a running in-process NATS JetStream server.
type Embedded struct {
	srv     *server.Server
	dir     string
	log     *slog.Logger
	once    sync.Once
	stop    chan struct{}
	watcher sync.WaitGroup
}

// StartEmbedded starts a NATS server with JetStream on a file store in
// cfg.Dir and returns once it accepts connections; it fails if the server
// is not ready within 10 s or ctx ends first.
func StartEmbedded(ctx context.Context, cfg EmbeddedConfig, log *slog.Logger) (*Embedded, error) {
	cfg.setDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log = log.With("component", "nats-embedded")
	opts := &server.Options{
		ServerName: cfg.ServerName,
		// No listener (see EmbeddedConfig): clients connect in-process.
		DontListen: true,
		JetStream:  true,
		StoreDir:   cfg.Dir,
		MaxPayload: embeddedMaxPayload,
		// The process owns signals (graceful shutdown of everything).
		NoSigs: true,
		// Shutdown() kicks remaining clients quickly instead of spreading
		// their disconnects over the default two minutes.
		LameDuckDuration:    2 * time.Second,
		LameDuckGracePeriod: 500 * time.Millisecond,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("broker: embedded server: %w", err)
	}
	logs := &serverLog{log: log}
	srv.SetLoggerV2(logs, log.Enabled(ctx, slog.LevelDebug), false, false)
	start := time.Now()
	srv.Start()
	if err := waitReady(ctx, srv, logs); err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("broker: embedded server on %s: %w", cfg.Dir, err)
	}
	if !srv.JetStreamEnabled() {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("broker: embedded server on %s: JetStream did not start (see the log)", cfg.Dir)
	}
	e := &Embedded{srv: srv, dir: cfg.Dir, log: log, stop: make(chan struct{})}
	e.watcher.Add(1)
	go e.keepJetStreamOn(cfg.Recheck)
	log.Info("embedded NATS JetStream ready (in-process only, no listener)", "dir", cfg.Dir,
		"startup", time.Since(start).Round(time.Millisecond))
	return e, nil
}

func waitReady(ctx context.Context, srv *server.Server, logs *serverLog) error {
	deadline := time.Now().Add(readyTimeout)
	for {
		if srv.ReadyForConnections(50 * time.Millisecond) {
			return nil
		}
		if err := logs.fatal(); err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready for connections after %s", readyTimeout)
		}
	}
}

// Config is the broker configuration of this server's clients, defaults
// applied: they connect in-process (Config.InProcess).
func (e *Embedded) Config() Config {
	return Config{InProcess: e.srv}.WithDefaults()
}

// Connect opens a plain NATS connection to the server, in-process (for
// administration and tests; Custody's own clients use Config).
func (e *Embedded) Connect(opts ...nats.Option) (*nats.Conn, error) {
	nc, err := nats.Connect("", append(opts, nats.InProcessServer(e.srv))...)
	if err != nil {
		return nil, fmt.Errorf("broker: connect to the embedded server: %w", err)
	}
	return nc, nil
}

// Shutdown stops the server gracefully and waits until it has: it stops
// accepting clients, closes the JetStream store (flushing it), disconnects
// the clients still connected (close them first to avoid the short grace
// period) and stops. Safe to call more than once.
func (e *Embedded) Shutdown() {
	e.once.Do(func() {
		close(e.stop)
		e.watcher.Wait()
		start := time.Now()
		e.srv.LameDuckShutdown()
		e.srv.Shutdown()
		e.srv.WaitForShutdown()
		e.log.Info("embedded NATS stopped", "dir", e.dir, "took", time.Since(start).Round(time.Millisecond))
	})
}

// keepJetStreamOn turns JetStream back on, every interval, after it
// switched itself off (a storage write error, say), until Shutdown. The
// streams and consumers are reloaded from the store, where they are kept.
func (e *Embedded) keepJetStreamOn(interval time.Duration) {
	defer e.watcher.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		if e.srv.JetStreamEnabled() {
			continue
		}
		e.log.Error("embedded NATS: JetStream is off (after a storage error?); turning it back on", "dir", e.dir)
		if err := e.srv.EnableJetStream(&server.JetStreamConfig{StoreDir: e.dir}); err != nil {
			e.log.Error("embedded NATS: JetStream could not be turned back on; retrying", "err", err, "every", interval)
			continue
		}
		e.log.Info("embedded NATS: JetStream is back on", "dir", e.dir)
	}
}

// serverLog sends the NATS server's log to slog. Notices (startup banners,
// listening on …) are debug: StartEmbedded logs the one line that matters.
type serverLog struct {
	log *slog.Logger
	mu  sync.Mutex
	err error
}

func (s *serverLog) fatal() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.err
}

func (s *serverLog) Noticef(format string, v ...any) { s.log.Debug(fmt.Sprintf(format, v...)) }
func (s *serverLog) Warnf(format string, v ...any)   { s.log.Warn(fmt.Sprintf(format, v...)) }
func (s *serverLog) Errorf(format string, v ...any)  { s.log.Error(fmt.Sprintf(format, v...)) }
func (s *serverLog) Debugf(format string, v ...any)  { s.log.Debug(fmt.Sprintf(format, v...)) }
func (s *serverLog) Tracef(format string, v ...any)  { s.log.Debug(fmt.Sprintf(format, v...)) }

// Fatalf is how the server reports that it cannot run (e.g. the port is
// taken); StartEmbedded fails with it instead of waiting out the timeout.
func (s *serverLog) Fatalf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	s.log.Error(msg)
	s.mu.Lock()
	if s.err == nil {
		s.err = errors.New(msg)
	}
	s.mu.Unlock()
}
