package cluster_test

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// natsCluster is a JetStream cluster of in-process nats-server instances
// routed to each other on loopback, each with its own file store.
type natsCluster struct {
	servers []*server.Server
	mu      sync.Mutex
	down    map[string]bool // server names shut down
}

// startNATSCluster starts n servers named n1…nN in cluster "custody-test",
// each routing to all (JetStream clustering needs configured routes, so
// the route ports are chosen up front). It returns once every server
// accepts clients and the JetStream meta group has a leader; the servers
// are shut down when the test ends. CUSTODY_TEST_NATS_LOG=1 shows their
// logs.
func startNATSCluster(t *testing.T, n int) *natsCluster {
	t.Helper()
	c := &natsCluster{down: map[string]bool{}}
	var routes []*url.URL
	for _, p := range freePorts(t, n) {
		routes = append(routes, &url.URL{Scheme: "nats-route", Host: "127.0.0.1:" + strconv.Itoa(p)})
	}
	for i := range n {
		name := fmt.Sprintf("n%d", i+1)
		clusterPort, _ := strconv.Atoi(routes[i].Port())
		opts := &server.Options{
			ServerName: name,
			Host:       "127.0.0.1",
			Port:       -1,
			JetStream:  true,
			StoreDir:   filepath.Join(t.TempDir(), name),
			Cluster:    server.ClusterOpts{Name: "custody-test", Host: "127.0.0.1", Port: clusterPort},
			Routes:     routes,
			NoLog:      true,
			NoSigs:     true,
		}
		if os.Getenv("CUSTODY_TEST_NATS_LOG") != "" {
			opts.NoLog, opts.Debug = false, true
		}
		s, err := server.NewServer(opts)
		if err != nil {
			t.Fatalf("nats server %s: %v", name, err)
		}
		if !opts.NoLog {
			s.ConfigureLogger()
		}
		s.Start()
		if !s.ReadyForConnections(10 * time.Second) {
			s.Shutdown()
			t.Fatalf("nats server %s not ready for connections after 10s", name)
		}
		c.servers = append(c.servers, s)
	}
	t.Cleanup(func() {
		for _, s := range c.servers {
			s.Shutdown()
			s.WaitForShutdown()
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for !c.metaLeaderElected() {
		if time.Now().After(deadline) {
			t.Fatal("JetStream meta group elected no leader within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return c
}

// freePorts returns n loopback ports free at the time of the call (held
// open together so they differ).
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	var out []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("free port: %v", err)
		}
		ls = append(ls, l)
		out = append(out, l.Addr().(*net.TCPAddr).Port)
	}
	return out
}

// metaLeaderElected reports whether the JetStream meta group has one
// leader that sees every server as a peer, and every server is current
// with it.
func (c *natsCluster) metaLeaderElected() bool {
	leaders := 0
	for _, s := range c.servers {
		if !s.JetStreamIsClustered() || !s.JetStreamIsCurrent() {
			return false
		}
		if s.JetStreamIsLeader() {
			leaders++
			if len(s.JetStreamClusterPeers()) != len(c.servers) {
				return false
			}
		}
	}
	return leaders == 1
}

// account is the account of clients without credentials.
const account = "$G"

// streamLeader names the live server leading stream, or "".
func (c *natsCluster) streamLeader(stream string) string {
	for _, s := range c.live() {
		if s.JetStreamIsStreamLeader(account, stream) {
			return s.Name()
		}
	}
	return ""
}

// consumerLeader names the live server leading the durable consumer, or "".
func (c *natsCluster) consumerLeader(stream, durable string) string {
	for _, s := range c.live() {
		if s.JetStreamIsConsumerLeader(account, stream, durable) {
			return s.Name()
		}
	}
	return ""
}

func (c *natsCluster) live() []*server.Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []*server.Server
	for _, s := range c.servers {
		if !c.down[s.Name()] {
			out = append(out, s)
		}
	}
	return out
}

// URLs are the client URLs of every server, down or not (clients fail
// over between them).
func (c *natsCluster) URLs() []string {
	out := make([]string, len(c.servers))
	for i, s := range c.servers {
		out[i] = s.ClientURL()
	}
	return out
}

// Shutdown stops the server named name, abruptly for its clients: their
// connections drop, and its stream and consumer replicas are lost (it does
// not come back). Safe to call from any goroutine.
func (c *natsCluster) Shutdown(name string) error {
	for _, s := range c.servers {
		if s.Name() == name {
			s.Shutdown()
			s.WaitForShutdown()
			c.mu.Lock()
			c.down[name] = true
			c.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("no server named %s", name)
}
