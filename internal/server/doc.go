// Package server is Custody's HTTP front door: health and readiness probes,
// Prometheus metrics, and the API handlers other packages provide, behind
// request logging and metrics middleware. It owns the listener and graceful
// shutdown, not the API logic.
package server
