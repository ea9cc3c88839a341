package node

import (
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/custodyhq/custody/internal/config"
	"github.com/custodyhq/custody/internal/rejected"
	"github.com/custodyhq/custody/internal/storage"
)

// rejectedStore returns the store that keeps what a process rejects, capped
// by cfg.Rejected. Its metrics (custody_rejected_dropped_total,
// custody_rejected_truncated_total) go to registry when it is not nil, and
// the warning that the store is full to log.
func rejectedStore(cfg config.Config, store *storage.Storage, registry prometheus.Registerer, log *slog.Logger) (*rejected.Store, error) {
	limits := rejected.Limits{MaxPayloadBytes: cfg.Rejected.MaxPayloadBytes, MaxStoredBytes: cfg.Rejected.MaxStoredBytes,
		MaxStored: cfg.Rejected.MaxStored}
	if err := limits.Validate(); err != nil {
		return nil, err
	}
	m, err := rejected.NewMetrics(registry)
	if err != nil {
		return nil, err
	}
	return rejected.NewWithConfig(store.Conn, store.Keyring, rejected.Config{Tables: store.Tables, Limits: limits, Metrics: m, Log: log}), nil
}
