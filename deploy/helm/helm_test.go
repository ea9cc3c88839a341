// Package helm_test checks the Helm chart in deploy/helm/custody: helm lint
// --strict and helm template for every value set in ci/, and assertions
// over the rendered manifests (pinned images, probes, resources, security
// contexts, secrets never inlined, the migrations hook, HPAs and PDBs), with
// each rendered custody configuration loaded and validated by the real
// internal/config loader.
package helm_test

import (
	"encoding/base64"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/custodyhq/custody/internal/config"
)

const chartDir = "custody"

// valueSet is one file of deploy/helm/custody/ci and what its render must
// hold.
type valueSet struct {
	name string
	file string // under custody/ci; "" renders the chart's defaults
	// Workloads rendered, as kind/name.
	want []string
	// Objects that must not be rendered, as kind/name or kind.
	absent []string
	// existingSecret is the Secret every secretKeyRef must name ("" when
	// the chart renders its own).
	existingSecret string
	// pinnedDigest: every image carries @sha256:…
	pinnedDigest bool
	// check inspects the loaded configuration.
	check func(t *testing.T, c config.Config)
	// configErr: loading the configuration must fail with an error
	// matching this.
	configErr *regexp.Regexp
}

func valueSets() []valueSet {
	return []valueSet{
		{
			name: "defaults (single node, generated keys)", file: "",
			want:   []string{"StatefulSet/custody-server", "Service/custody-server", "ConfigMap/custody"},
			absent: []string{"Deployment", "Job", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Secret", "Ingress", "ServiceMonitor"},
			check: func(t *testing.T, c config.Config) {
				expect(t, "clickhouse.transport", c.ClickHouse.Transport, "embedded")
				expect(t, "broker.mode", c.Broker.Mode, "embedded")
				expect(t, "security.generate_keys", *c.Security.GenerateKeys, true)
				expect(t, "data_dir", c.DataDir, "/var/lib/custody")
			},
		},
		{
			name: "single-node", file: "single-node-values.yaml", pinnedDigest: true,
			want: []string{"StatefulSet/custody-server", "Service/custody-server", "ConfigMap/custody", "Secret/custody",
				"Ingress/custody", "ServiceMonitor/custody"},
			absent: []string{"Deployment", "Job", "HorizontalPodAutoscaler", "PodDisruptionBudget"},
			check: func(t *testing.T, c config.Config) {
				expect(t, "clickhouse.transport", c.ClickHouse.Transport, "embedded")
				expect(t, "broker.mode", c.Broker.Mode, "embedded")
				expect(t, "security.generate_keys", *c.Security.GenerateKeys, false)
				expect(t, "security.master_key (from the Secret)", c.Security.MasterKey != "", true)
				expect(t, "auth.tokens", len(c.Auth.Tokens), 2)
				expect(t, "http.addr", c.HTTP.Addr, "0.0.0.0:8080")
			},
		},
		{
			name: "nats", file: "nats-values.yaml", pinnedDigest: true,
			want: []string{"Deployment/custody-ingest", "Deployment/custody-graphql", "Service/custody-ingest", "Service/custody-graphql",
				"HorizontalPodAutoscaler/custody-ingest", "HorizontalPodAutoscaler/custody-graphql",
				"PodDisruptionBudget/custody-ingest", "PodDisruptionBudget/custody-graphql",
				"Job/custody-migrations", "ConfigMap/custody-migrations", "Secret/custody-migrations", "Secret/custody",
				"Ingress/custody", "ServiceMonitor/custody"},
			absent: []string{"StatefulSet"},
			check: func(t *testing.T, c config.Config) {
				expect(t, "clickhouse.transport", c.ClickHouse.Transport, "native")
				expect(t, "clickhouse.native.addrs", len(c.ClickHouse.Native.Addrs), 2)
				expect(t, "clickhouse.native.tls", c.ClickHouse.Native.TLS, true)
				expect(t, "clickhouse.native.password (from the Secret)", c.ClickHouse.Native.Password, "test-only-password")
				expect(t, "clickhouse.cluster.name", c.ClickHouse.Cluster.Name, "custody")
				expect(t, "clickhouse.cluster.replicated", c.ClickHouse.Cluster.Replicated, true)
				expect(t, "broker.mode", c.Broker.Mode, "nats")
				expect(t, "broker.urls", len(c.Broker.URLs), 3)
				expect(t, "broker.replicas", c.Broker.Replicas, 3)
				expect(t, "broker.creds_file", c.Broker.CredsFile, "/etc/custody/nats-auth/custody.creds")
				expect(t, "broker.cert_file", c.Broker.CertFile, "/etc/custody/nats-tls/tls.crt")
				expect(t, "security.generate_keys", *c.Security.GenerateKeys, false)
				expect(t, "auth.tokens", len(c.Auth.Tokens), 3)
			},
		},
		{
			name: "kafka", file: "kafka-values.yaml",
			want:   []string{"Deployment/custody-ingest", "PodDisruptionBudget/custody-ingest", "Job/custody-migrations", "Secret/custody"},
			absent: []string{"StatefulSet", "HorizontalPodAutoscaler", "Deployment/custody-graphql"},
			check: func(t *testing.T, c config.Config) {
				k := c.Broker.Kafka
				expect(t, "broker.mode", c.Broker.Mode, "kafka")
				expect(t, "broker.kafka.brokers", strings.Join(k.Brokers, ","),
					"kafka-0.kafka.messaging.svc:9093,kafka-1.kafka.messaging.svc:9093,kafka-2.kafka.messaging.svc:9093")
				expect(t, "broker.kafka.topic", k.Topic, "custody.events")
				expect(t, "broker.kafka.consumer_group", k.ConsumerGroup, "custody-ingest")
				expect(t, "broker.kafka.partitions", k.Partitions, 24)
				expect(t, "broker.kafka.replication_factor", k.ReplicationFactor, 3)
				expect(t, "broker.kafka.retention", k.Retention, 72*time.Hour)
				expect(t, "broker.kafka.tls.enabled", k.TLS.Enabled, true)
				expect(t, "broker.kafka.tls.ca_file", k.TLS.CAFile, "/etc/custody/kafka-tls/ca.crt")
				expect(t, "broker.kafka.sasl.mechanism", k.SASL.Mechanism, "SCRAM-SHA-512")
				expect(t, "broker.kafka.sasl.username", k.SASL.Username, "custody")
				// The migrations Job does not get the password (it never
				// opens the transport); the ingest replicas do.
				if k.SASL.Password != "" {
					expect(t, "broker.kafka.sasl.password (from the Secret)", k.SASL.Password, "test-only-kafka-password")
				}
			},
		},
		{
			name: "existing-secret", file: "existing-secret-values.yaml", existingSecret: "custody-keys",
			want: []string{"Deployment/custody-ingest", "Deployment/custody-graphql", "PodDisruptionBudget/custody-ingest",
				"PodDisruptionBudget/custody-graphql", "Job/custody-migrations", "ConfigMap/custody-migrations"},
			absent: []string{"Secret", "HorizontalPodAutoscaler", "StatefulSet"},
			check: func(t *testing.T, c config.Config) {
				expect(t, "broker.mode", c.Broker.Mode, "nats")
				expect(t, "broker.replicas", c.Broker.Replicas, 1)
				expect(t, "broker.nkey_file", c.Broker.NKeyFile, "/etc/custody/nats-auth/custody.nk")
				expect(t, "clickhouse.native.username", c.ClickHouse.Native.Username, "custody")
				expect(t, "clickhouse.cluster.name", c.ClickHouse.Cluster.Name, "")
			},
		},
	}
}

func TestChart(t *testing.T) {
	helm := findHelm(t)
	for _, vs := range valueSets() {
		t.Run(vs.name, func(t *testing.T) {
			var args []string
			if vs.file != "" {
				args = []string{"--values", filepath.Join(chartDir, "ci", vs.file)}
			}
			if _, err := helmRun(helm, append([]string{"lint", "--strict", chartDir}, args...)...); err != nil {
				t.Fatalf("lint: %v", err)
			}
			m := mustRender(t, helm, args...)
			values := readValues(t, vs.file)
			checkPresence(t, m, vs.want, vs.absent)
			checkWorkloads(t, m, vs)
			checkSecrets(t, m, vs, values)
			checkMigrations(t, m)
			checkScaling(t, m)
			checkRouting(t, m)
			checkConfig(t, m, vs)
		})
	}
}

// TestChart_RejectsBadValues: values that would deploy something unsafe or
// broken fail the render with a message naming the value.
func TestChart_RejectsBadValues(t *testing.T) {
	helm := findHelm(t)
	nats := filepath.Join(chartDir, "ci", "nats-values.yaml")
	kafkaValues := filepath.Join(chartDir, "ci", "kafka-values.yaml")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"latest tag", []string{"--set", "image.tag=latest"}, `"latest" is not allowed`},
		{"latest tag on one component", []string{"-f", nats, "--set", "ingest.image.tag=latest"}, `ingest.image.tag: "latest" is not allowed`},
		{"no tag", []string{"--set", "image.tag="}, "image.tag (or image.tag): is required"},
		{"tag in the repository", []string{"--set", "image.repository=ghcr.io/custodyhq/custody:0.1.0"}, "must not carry a tag"},
		{"malformed digest", []string{"--set", "image.digest=sha256:abc"}, "image.digest: must be sha256:<64 lowercase hex>"},
		{"scale-out without tokens", []string{"-f", nats, "--set", "auth.tokens=null"}, "auth.tokens: at least one token is required"},
		{"scale-out without keys", []string{"-f", nats, "--set", "security.masterKey=", "--set", "security.identifierKey="},
			"security.masterKey and security.identifierKey (or security.existingSecret) are required"},
		{"only one key", []string{"-f", nats, "--set", "security.identifierKey="}, "give both or neither"},
		{"key not 32 bytes", []string{"-f", nats, "--set", "security.masterKey=c2hvcnQ="}, "security.masterKey: must be base64 of exactly 32 bytes"},
		{"existing secret and inline keys", []string{"-f", nats, "--set", "security.existingSecret=keys"}, "security.existingSecret is set"},
		{"previous master key not a key", []string{"-f", nats, "--set", "security.previousMasterKeys[0]=x"}, "security.previousMasterKeys[0]: must be base64 of exactly 32 bytes"},
		{"previous master keys beside an existing secret", []string{"-f", nats, "--set", "security.masterKey=", "--set", "security.identifierKey=",
			"--set", "clickhouse.password=", "--set", "security.existingSecret=custody-keys", "--set", "security.previousMasterKeys[0]=" + testPreviousKey}, "security.existingSecret is set"},
		{"bad token hash", []string{"-f", nats, "--set", "auth.tokens[0].sha256=abc"}, "auth.tokens[0]: needs name, role"},
		{"bad token role", []string{"-f", nats, "--set", "auth.tokens[0].role=root"}, "auth.tokens[0]: needs name, role"},
		{"no clickhouse", []string{"-f", nats, "--set", "clickhouse.addrs=null"}, "clickhouse.addrs: at least one host:port"},
		{"replicated without cluster name", []string{"-f", nats, "--set", "clickhouse.cluster.name="}, "clickhouse.cluster.name: is required"},
		{"sharded without replication", []string{"-f", nats, "--set", "clickhouse.cluster.sharded=true", "--set", "clickhouse.cluster.replicated=false"},
			"clickhouse.cluster.sharded: needs clickhouse.cluster.name and clickhouse.cluster.replicated: true"},
		{"no nats urls", []string{"-f", nats, "--set", "broker.nats.urls=null"}, "broker.nats.urls: at least one server URL"},
		{"creds and nkey", []string{"-f", nats, "--set", "broker.nats.nkeySecret.name=x"}, "set one, not both"},
		{"stream replicas", []string{"-f", nats, "--set", "broker.nats.replicas=7"}, "broker.nats.replicas: must be 1..5, got 7"},
		{"unknown broker mode", []string{"-f", nats, "--set", "broker.mode=rabbitmq"}, `broker.mode: must be nats or kafka when singleNode is off, got "rabbitmq"`},
		{"kafka without brokers", []string{"-f", nats, "--set", "broker.mode=kafka"}, "broker.kafka.brokers: at least one host:port"},
		{"kafka partitions", []string{"-f", kafkaValues, "--set", "broker.kafka.partitions=0"}, "broker.kafka.partitions: must be 1..10000, got 0"},
		{"kafka replication", []string{"-f", kafkaValues, "--set", "broker.kafka.replicationFactor=0"}, "broker.kafka.replicationFactor: must be 1..32"},
		{"kafka sasl mechanism", []string{"-f", kafkaValues, "--set", "broker.kafka.sasl.mechanism=GSSAPI"}, "broker.kafka.sasl.mechanism: must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
		{"kafka sasl without user", []string{"-f", kafkaValues, "--set", "broker.kafka.sasl.username="}, "broker.kafka.sasl.username: is required"},
		{"kafka sasl without password", []string{"-f", kafkaValues, "--set", "broker.kafka.sasl.password="}, "broker.kafka.sasl: a password is required"},
		{"kafka password twice", []string{"-f", kafkaValues, "--set", "broker.kafka.sasl.passwordSecret.name=kafka-user"}, "set one, not both"},
		{"kafka password inline with an existing secret", []string{"-f", kafkaValues, "--set", "security.existingSecret=keys",
			"--set", "security.masterKey=", "--set", "security.identifierKey="}, "leave broker.kafka.sasl.password empty"},
		{"kafka user without mechanism", []string{"-f", kafkaValues, "--set", "broker.kafka.sasl.mechanism="}, "broker.kafka.sasl.mechanism: is required"},
		{"kafka client cert without secret", []string{"-f", kafkaValues, "--set", "broker.kafka.tls.secretName=", "--set", "broker.kafka.tls.certKey=tls.crt",
			"--set", "broker.kafka.tls.keyKey=tls.key"}, "broker.kafka.tls.secretName: is required"},
		{"hpa min above max", []string{"-f", nats, "--set", "ingest.autoscaling.minReplicas=9"}, "ingest.autoscaling: minReplicas (9) must not exceed maxReplicas (8)"},
		{"ingress without hosts", []string{"--set", "ingress.enabled=true"}, "ingress.hosts: at least one host"},
		{"config inside the data dir", []string{"--set", "configPath=/var/lib/custody/config.yaml"}, "configPath: must be an absolute file path in a directory of its own"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := helmRun(helm, append([]string{"template", "custody", chartDir}, tt.args...)...)
			if err == nil {
				t.Fatalf("rendered without error:\n%s", lastLines(out, 10))
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error does not say %q:\n%v", tt.want, err)
			}
		})
	}
}

// TestChart_ShardedCluster: clickhouse.cluster.sharded reaches every
// workload's config (migrations Job included), which custody accepts; the
// default leaves it off.
func TestChart_ShardedCluster(t *testing.T) {
	helm := findHelm(t)
	nats := filepath.Join(chartDir, "ci", "nats-values.yaml")
	for _, sharded := range []bool{true, false} {
		args := []string{"-f", nats}
		if sharded {
			args = append(args, "--set", "clickhouse.cluster.sharded=true")
		}
		m := mustRender(t, helm, args...)
		checkConfig(t, m, valueSet{name: "sharded", check: func(t *testing.T, c config.Config) {
			expect(t, "clickhouse.cluster.name", c.ClickHouse.Cluster.Name, "custody")
			expect(t, "clickhouse.cluster.replicated", c.ClickHouse.Cluster.Replicated, true)
			expect(t, "clickhouse.cluster.sharded", c.ClickHouse.Cluster.Sharded, sharded)
		}})
	}
}

// testPreviousKey is a well-formed master key (base64 of 32 bytes) that
// protects nothing.
const testPreviousKey = "Y3VzdG9keS10ZXN0LXByZXZpb3VzLW1hc3Rlci1rMDE="

// TestChart_PreviousMasterKeys: during a rotation the previous keys reach
// every workload as CUSTODY_PREVIOUS_MASTER_KEYS from the chart's Secret
// (comma-separated) or, with existingSecret, from its optional key; they
// are never inlined in a pod spec or the configuration.
func TestChart_PreviousMasterKeys(t *testing.T) {
	helm := findHelm(t)
	nats := filepath.Join(chartDir, "ci", "nats-values.yaml")
	second := "Y3VzdG9keS10ZXN0LXByZXZpb3VzLW1hc3Rlci1rMDI="
	tests := []struct {
		name      string
		args      []string
		secret    string
		chartData string // what the chart's Secret holds under previous-master-keys
	}{
		{"inline", []string{"-f", nats, "--set", "security.previousMasterKeys[0]=" + testPreviousKey, "--set", "security.previousMasterKeys[1]=" + second},
			"custody", testPreviousKey + "," + second},
		{"existing secret", []string{"-f", nats, "--set", "security.masterKey=", "--set", "security.identifierKey=", "--set", "clickhouse.password=",
			"--set", "security.existingSecret=custody-keys"},
			"custody-keys", ""},
		{"none", []string{"-f", nats}, "custody", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := helmRun(helm, append([]string{"lint", "--strict", chartDir}, tt.args...)...); err != nil {
				t.Fatalf("lint: %v", err)
			}
			m := mustRender(t, helm, tt.args...)
			workloads := 0
			for _, w := range m.workloads() {
				for _, c := range w.containers() {
					for _, e := range list(c, "env") {
						if str(e, "name") != "CUSTODY_PREVIOUS_MASTER_KEYS" {
							continue
						}
						workloads++
						if _, ok := get(e, "value").(string); ok {
							t.Errorf("%s: previous master keys inlined in the pod spec", w.owner.id())
						}
						ref := obj(e, "valueFrom", "secretKeyRef")
						expect(t, "secretKeyRef.name", str(ref, "name"), tt.secret)
						expect(t, "secretKeyRef.key", str(ref, "key"), "previous-master-keys")
						expect(t, "secretKeyRef.optional", get(ref, "optional"), true)
					}
				}
			}
			if workloads == 0 {
				t.Fatal("no container gets CUSTODY_PREVIOUS_MASTER_KEYS")
			}
			got := ""
			if main := m.find("Secret", "custody"); main != nil {
				if b64 := str(main, "data", "previous-master-keys"); b64 != "" {
					b, err := base64.StdEncoding.DecodeString(b64)
					if err != nil {
						t.Fatal(err)
					}
					got = string(b)
				}
			}
			expect(t, "chart Secret previous-master-keys", got, tt.chartData)
			for _, cm := range m.byKind("ConfigMap") {
				if strings.Contains(str(cm, "data", "config.yaml"), testPreviousKey) {
					t.Errorf("%s holds a previous master key", cm.id())
				}
			}
		})
	}
}

// TestChart_KafkaPasswordSources: the SASL password reaches the ingest
// replicas as CUSTODY_BROKER_KAFKA_PASSWORD from the Secret it is in (the
// chart's, the existing one, or one named in passwordSecret) and is never
// inlined anywhere else; the rendered configuration names the brokers,
// topic and group, and custody loads it.
func TestChart_KafkaPasswordSources(t *testing.T) {
	helm := findHelm(t)
	kafkaValues := filepath.Join(chartDir, "ci", "kafka-values.yaml")
	existing := filepath.Join(chartDir, "ci", "existing-secret-values.yaml")
	kafkaOn := []string{"--set", "broker.mode=kafka", "--set", "broker.kafka.brokers[0]=kafka-0:9092",
		"--set", "broker.kafka.sasl.mechanism=SCRAM-SHA-512", "--set", "broker.kafka.sasl.username=custody"}
	tests := []struct {
		name       string
		args       []string
		secret     string // the Secret CUSTODY_BROKER_KAFKA_PASSWORD comes from
		key        string
		chartData  bool // the chart's Secret holds the password
		mustAbsent string
	}{
		{"inline, kept in the chart's Secret", []string{"-f", kafkaValues, "--set", "graphql.enabled=true"}, "custody", "kafka-password", true, "test-only-kafka-password"},
		{"existing secret", append([]string{"-f", existing}, kafkaOn...), "custody-keys", "kafka-password", false, ""},
		{"existing secret, own key name", append([]string{"-f", existing, "--set", "security.secretKeys.kafkaPassword=kafka"}, kafkaOn...),
			"custody-keys", "kafka", false, ""},
		{"a Secret of its own", []string{"-f", kafkaValues, "--set", "broker.kafka.sasl.password=", "--set", "broker.kafka.sasl.passwordSecret.name=custody-kafka-user"},
			"custody-kafka-user", "password", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := helmRun(helm, append([]string{"lint", "--strict", chartDir}, tt.args...)...); err != nil {
				t.Fatalf("lint: %v", err)
			}
			m := mustRender(t, helm, tt.args...)
			ingest := m.find("Deployment", "custody-ingest")
			if ingest == nil {
				t.Fatal("no ingest Deployment")
			}
			found := false
			for _, w := range m.workloads() {
				if w.owner.id() != "Deployment/custody-ingest" {
					for _, c := range w.containers() {
						for _, e := range list(c, "env") {
							if str(e, "name") == "CUSTODY_BROKER_KAFKA_PASSWORD" {
								t.Errorf("%s gets the Kafka password; only ingest talks to the brokers", w.owner.id())
							}
						}
					}
					continue
				}
				for _, c := range w.containers() {
					for _, e := range list(c, "env") {
						if str(e, "name") != "CUSTODY_BROKER_KAFKA_PASSWORD" {
							continue
						}
						found = true
						if v, ok := get(e, "value").(string); ok {
							t.Errorf("the password is inlined in the pod spec: %q", v)
						}
						ref := obj(e, "valueFrom", "secretKeyRef")
						expect(t, "secretKeyRef.name", str(ref, "name"), tt.secret)
						expect(t, "secretKeyRef.key", str(ref, "key"), tt.key)
					}
				}
			}
			if !found {
				t.Fatal("the ingest container gets no CUSTODY_BROKER_KAFKA_PASSWORD")
			}
			main := m.find("Secret", "custody")
			hasData := main != nil && str(main, "data", "kafka-password") != ""
			expect(t, "chart Secret holds kafka-password", hasData, tt.chartData)
			for _, o := range m {
				b, err := yaml.Marshal(map[string]any(o))
				if err != nil {
					t.Fatal(err)
				}
				if o.kind() != "Secret" && tt.mustAbsent != "" && strings.Contains(string(b), tt.mustAbsent) {
					t.Errorf("%s contains the Kafka password", o.id())
				}
				if o.kind() == "ConfigMap" && strings.Contains(string(b), "password:") {
					t.Errorf("%s renders a password key into the configuration", o.id())
				}
			}
			for _, cm := range m.byKind("ConfigMap") {
				text := str(cm, "data", "config.yaml")
				if text == "" {
					continue
				}
				path := filepath.Join(t.TempDir(), "config.yaml")
				if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
					t.Fatal(err)
				}
				c, err := config.Load(path, nil)
				if err != nil {
					t.Fatalf("%s: custody rejects the configuration: %v\n%s", cm.id(), err, text)
				}
				expect(t, "broker.mode", c.Broker.Mode, "kafka")
				if len(c.Broker.Kafka.Brokers) == 0 || c.Broker.Kafka.Topic != "custody.events" || c.Broker.Kafka.ConsumerGroup != "custody-ingest" {
					t.Errorf("%s: brokers %v, topic %q, group %q", cm.id(), c.Broker.Kafka.Brokers, c.Broker.Kafka.Topic, c.Broker.Kafka.ConsumerGroup)
				}
			}
		})
	}
}

// TestChart_AppVersionIsTheDefaultTag keeps Chart.yaml's appVersion and the
// default image tag in step.
func TestChart_AppVersionIsTheDefaultTag(t *testing.T) {
	var chart struct {
		AppVersion string `yaml:"appVersion"`
	}
	b, err := os.ReadFile(filepath.Join(chartDir, "Chart.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &chart); err != nil {
		t.Fatal(err)
	}
	tag := str(readValues(t, ""), "image", "tag")
	if tag == "" || tag != chart.AppVersion {
		t.Errorf("values.yaml image.tag %q, Chart.yaml appVersion %q: keep them equal", tag, chart.AppVersion)
	}
}

// readValues decodes one values file as written (values.yaml when file is
// ""), not merged with the defaults: callers read fields the file sets.
func readValues(t *testing.T, file string) map[string]any {
	t.Helper()
	path := filepath.Join(chartDir, "values.yaml")
	if file != "" {
		path = filepath.Join(chartDir, "ci", file)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v map[string]any
	if err := yaml.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

func expect[T comparable](t *testing.T, field string, got, want T) {
	t.Helper()
	if got != want {
		t.Errorf("config %s = %v, want %v", field, got, want)
	}
}

func checkPresence(t *testing.T, m manifests, want, absent []string) {
	for _, id := range want {
		kind, name, _ := strings.Cut(id, "/")
		if m.find(kind, name) == nil {
			t.Errorf("%s not rendered", id)
		}
	}
	for _, id := range absent {
		kind, name, named := strings.Cut(id, "/")
		for _, o := range m.byKind(kind) {
			if !named || o.name() == name {
				t.Errorf("%s rendered, want none", o.id())
			}
		}
	}
}

var (
	// An image reference: repository[:tag][@sha256:digest]; the repository
	// may hold a registry port.
	imageRef = regexp.MustCompile(`^([a-z0-9.\-]+(?::[0-9]+)?/)?[a-z0-9._\-/]+:([A-Za-z0-9_][A-Za-z0-9_.\-]{0,127})(@sha256:[a-f0-9]{64})?$`)
	// The only CUSTODY_* variables that are not configuration overrides.
	nonOverrideEnv = map[string]bool{"CUSTODY_CONFIG": true}
)

// checkWorkloads: every container is pinned, resourced, locked down and
// (when long-running) probed on the health endpoints; every mount has its
// volume and no mount sits inside another; every CUSTODY_* variable is one
// custody reads.
func checkWorkloads(t *testing.T, m manifests, vs valueSet) {
	overrides := map[string]bool{}
	for _, o := range config.Overrides() {
		overrides[o.Env] = true
	}
	ws := m.workloads()
	if len(ws) == 0 {
		t.Fatal("no workloads rendered")
	}
	for _, w := range ws {
		id := w.owner.id()
		longRunning := w.owner.kind() != "Job"
		psc := obj(w.pod, "securityContext")
		if get(psc, "runAsNonRoot") != true {
			t.Errorf("%s: pod securityContext.runAsNonRoot is not true", id)
		}
		if str(psc, "seccompProfile", "type") != "RuntimeDefault" {
			t.Errorf("%s: pod seccompProfile is not RuntimeDefault", id)
		}
		if get(w.pod, "automountServiceAccountToken") != false {
			t.Errorf("%s: the service account token is mounted; custody never calls the API", id)
		}
		if longRunning {
			ann := obj(w.meta, "annotations")
			if len(str(ann, "checksum/config")) != 64 || len(str(ann, "checksum/secret")) != 64 {
				t.Errorf("%s: pod template lacks checksum/config and checksum/secret annotations (pods would not roll on change)", id)
			}
		}
		volumes := map[string]bool{}
		for _, v := range list(w.pod, "volumes") {
			volumes[str(v, "name")] = true
		}
		if w.owner.kind() == "StatefulSet" {
			for _, c := range list(w.owner, "spec", "volumeClaimTemplates") {
				volumes[str(c, "metadata", "name")] = true
			}
		}
		for _, c := range w.containers() {
			cid := id + " container " + str(c, "name")
			img := str(c, "image")
			sub := imageRef.FindStringSubmatch(img)
			switch {
			case sub == nil:
				t.Errorf("%s: image %q has no tag (want repository:tag[@sha256:…])", cid, img)
			case strings.EqualFold(sub[2], "latest"):
				t.Errorf("%s: image %q uses latest", cid, img)
			case vs.pinnedDigest && sub[3] == "":
				t.Errorf("%s: image %q lacks the configured digest", cid, img)
			}
			res := obj(c, "resources")
			for _, r := range []string{"requests/cpu", "requests/memory", "limits/memory"} {
				a, b, _ := strings.Cut(r, "/")
				if get(res, a, b) == nil {
					t.Errorf("%s: resources.%s.%s is not set", cid, a, b)
				}
			}
			sc := obj(c, "securityContext")
			if get(sc, "runAsNonRoot") != true || get(sc, "readOnlyRootFilesystem") != true ||
				get(sc, "allowPrivilegeEscalation") != false || get(sc, "privileged") == true ||
				!slices.Contains(strs(sc, "capabilities", "drop"), "ALL") {
				t.Errorf("%s: securityContext %v is not non-root, read-only root, no escalation, drop ALL", cid, sc)
			}
			if longRunning {
				ports := map[string]bool{}
				for _, p := range list(c, "ports") {
					ports[str(p, "name")] = true
				}
				for probe, path := range map[string]string{"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"} {
					got, port := str(c, probe, "httpGet", "path"), str(c, probe, "httpGet", "port")
					if got != path || !ports[port] {
						t.Errorf("%s: %s is GET %q on port %q, want GET %s on a named container port", cid, probe, got, port, path)
					}
				}
			}
			var mounts []string
			for _, vm := range list(c, "volumeMounts") {
				if !volumes[str(vm, "name")] {
					t.Errorf("%s: volumeMount %q has no volume", cid, str(vm, "name"))
				}
				mounts = append(mounts, str(vm, "mountPath"))
			}
			for _, a := range mounts {
				for _, b := range mounts {
					if a != b && strings.HasPrefix(b, strings.TrimSuffix(a, "/")+"/") {
						t.Errorf("%s: %s is mounted inside %s (cannot create a mount point in a read-only volume)", cid, b, a)
					}
				}
			}
			for _, e := range list(c, "env") {
				n := str(e, "name")
				if strings.HasPrefix(n, "CUSTODY_") && !overrides[n] && !nonOverrideEnv[n] {
					t.Errorf("%s: sets %s, which custody does not read (see config.Overrides)", cid, n)
				}
				if ref := str(e, "valueFrom", "secretKeyRef", "name"); ref != "" && vs.existingSecret != "" && ref != vs.existingSecret {
					t.Errorf("%s: %s comes from Secret %q, want the existing Secret %q", cid, n, ref, vs.existingSecret)
				}
				if ref := str(e, "valueFrom", "secretKeyRef", "name"); ref != "" && vs.existingSecret == "" && m.find("Secret", ref) == nil {
					t.Errorf("%s: %s comes from Secret %q, which the chart does not render", cid, n, ref)
				}
			}
		}
	}
}

// checkSecrets: with an existing Secret nothing holds key material; without
// one, keys and passwords are only in Secrets, never in a ConfigMap or a
// pod spec.
func checkSecrets(t *testing.T, m manifests, vs valueSet, values map[string]any) {
	if vs.existingSecret != "" {
		for _, s := range m.byKind("Secret") {
			if len(obj(s, "data")) > 0 || len(obj(s, "stringData")) > 0 {
				t.Errorf("%s inlines data although security.existingSecret is %s", s.id(), vs.existingSecret)
			}
		}
	}
	var secrets []string
	for _, p := range [][]string{{"security", "masterKey"}, {"security", "identifierKey"}, {"clickhouse", "password"}, {"broker", "kafka", "sasl", "password"}} {
		if s := str(values, p...); s != "" {
			secrets = append(secrets, s)
		}
	}
	for _, o := range m {
		if o.kind() == "Secret" {
			continue
		}
		b, err := yaml.Marshal(map[string]any(o))
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets {
			if strings.Contains(string(b), s) || strings.Contains(string(b), base64.StdEncoding.EncodeToString([]byte(s))) {
				t.Errorf("%s contains a secret value from the values file", o.id())
			}
		}
	}
	for _, s := range m.byKind("Secret") {
		if len(obj(s, "stringData")) > 0 {
			t.Errorf("%s uses stringData; keys belong base64-encoded in data", s.id())
		}
	}
	if main := m.find("Secret", "custody"); main != nil && str(main.annotations(), "helm.sh/resource-policy") != "keep" {
		t.Errorf("%s lacks helm.sh/resource-policy: keep (uninstall would delete the master key)", main.id())
	}
}

// checkMigrations: scale-out renders `custody migrate up` as a
// pre-install/pre-upgrade hook whose configuration and secret are hooks
// created before it.
func checkMigrations(t *testing.T, m manifests) {
	jobs := m.byKind("Job")
	if len(jobs) == 0 {
		return // single node migrates at start
	}
	if len(jobs) != 1 {
		t.Fatalf("%d Jobs rendered, want the migrations Job only", len(jobs))
	}
	job := jobs[0]
	ann := job.annotations()
	if hooks := strings.Split(str(ann, "helm.sh/hook"), ","); !slices.Contains(hooks, "pre-install") || !slices.Contains(hooks, "pre-upgrade") {
		t.Errorf("%s: helm.sh/hook is %q, want pre-install,pre-upgrade", job.id(), str(ann, "helm.sh/hook"))
	}
	if !strings.Contains(str(ann, "helm.sh/hook-delete-policy"), "before-hook-creation") {
		t.Errorf("%s: hook-delete-policy %q lacks before-hook-creation (an upgrade would fail on the old Job)", job.id(), str(ann, "helm.sh/hook-delete-policy"))
	}
	c := list(job, "spec", "template", "spec", "containers")
	if len(c) != 1 {
		t.Fatalf("%s: %d containers, want 1", job.id(), len(c))
	}
	if cmd := append(strs(c[0], "command"), strs(c[0], "args")...); !slices.Equal(cmd, []string{"custody", "migrate", "up"}) {
		t.Errorf("%s runs %q, want custody migrate up", job.id(), cmd)
	}
	if restart := str(job, "spec", "template", "spec", "restartPolicy"); restart != "Never" && restart != "OnFailure" {
		t.Errorf("%s: restartPolicy %q", job.id(), restart)
	}
	for _, e := range list(c[0], "env") {
		if n := str(e, "name"); n == "CUSTODY_MASTER_KEY" || n == "CUSTODY_IDENTIFIER_KEY" {
			t.Errorf("%s receives %s; migrations do not need the keys", job.id(), n)
		}
	}
	// Everything the Job mounts or reads that the chart renders must be a
	// hook created before it: release resources do not exist yet.
	jobWeight := str(ann, "helm.sh/hook-weight")
	var deps []object
	for _, v := range list(job, "spec", "template", "spec", "volumes") {
		if n := str(v, "configMap", "name"); n != "" {
			deps = append(deps, m.find("ConfigMap", n))
		}
		if n := str(v, "secret", "secretName"); n != "" && m.find("Secret", n) != nil {
			deps = append(deps, m.find("Secret", n))
		}
	}
	for _, e := range list(c[0], "env") {
		if n := str(e, "valueFrom", "secretKeyRef", "name"); n != "" && m.find("Secret", n) != nil {
			deps = append(deps, m.find("Secret", n))
		}
	}
	if len(deps) == 0 {
		t.Errorf("%s mounts no ConfigMap", job.id())
	}
	for _, d := range deps {
		if d == nil {
			t.Errorf("%s uses a ConfigMap the chart does not render", job.id())
			continue
		}
		da := d.annotations()
		if !strings.Contains(str(da, "helm.sh/hook"), "pre-install") || atoi(str(da, "helm.sh/hook-weight")) >= atoi(jobWeight) {
			t.Errorf("%s is used by the migrations Job but is not a pre-install hook weighted before it (hook %q, weight %q vs %q)",
				d.id(), str(da, "helm.sh/hook"), str(da, "helm.sh/hook-weight"), jobWeight)
		}
	}
	if sa := str(job, "spec", "template", "spec", "serviceAccountName"); sa != "default" && m.find("ServiceAccount", sa) != nil {
		t.Errorf("%s uses ServiceAccount %s, which the release creates only after pre-install hooks", job.id(), sa)
	}
}

func atoi(s string) int {
	n, neg := 0, strings.HasPrefix(s, "-")
	for _, r := range strings.TrimPrefix(s, "-") {
		n = n*10 + int(r-'0')
	}
	if neg {
		return -n
	}
	return n
}

// checkScaling: HPAs target rendered Deployments that leave replicas to
// them; PDBs select the pods of a rendered Deployment; a StatefulSet (one
// process per data directory) has exactly one replica and no PDB.
func checkScaling(t *testing.T, m manifests) {
	for _, h := range m.byKind("HorizontalPodAutoscaler") {
		target := str(h, "spec", "scaleTargetRef", "name")
		d := m.find(str(h, "spec", "scaleTargetRef", "kind"), target)
		if d == nil {
			t.Errorf("%s targets %s, which is not rendered", h.id(), target)
			continue
		}
		if get(d, "spec", "replicas") != nil {
			t.Errorf("%s sets spec.replicas although %s scales it (every upgrade would reset the count)", d.id(), h.id())
		}
		if len(list(h, "spec", "metrics")) == 0 {
			t.Errorf("%s has no metrics", h.id())
		}
	}
	for _, p := range m.byKind("PodDisruptionBudget") {
		sel := obj(p, "spec", "selector", "matchLabels")
		matched := 0
		for _, w := range m.workloads() {
			if w.owner.kind() != "Deployment" {
				continue
			}
			labels := obj(w.meta, "labels")
			ok := len(sel) > 0
			for k, v := range sel {
				ok = ok && labels[k] == v
			}
			if ok {
				matched++
			}
		}
		if matched != 1 {
			t.Errorf("%s selects the pods of %d Deployments, want 1", p.id(), matched)
		}
		if get(p, "spec", "maxUnavailable") == nil && get(p, "spec", "minAvailable") == nil {
			t.Errorf("%s sets neither maxUnavailable nor minAvailable", p.id())
		}
	}
	for _, s := range m.byKind("StatefulSet") {
		if r, _ := get(s, "spec", "replicas").(int); r != 1 {
			t.Errorf("%s has %v replicas, want exactly 1 (one process owns the data directory)", s.id(), get(s, "spec", "replicas"))
		}
		if len(list(s, "spec", "volumeClaimTemplates")) != 1 {
			t.Errorf("%s has no volume claim for the data directory", s.id())
		}
	}
}

// checkRouting: Services select a workload's pods on its named port, and
// Ingress backends are rendered Services.
func checkRouting(t *testing.T, m manifests) {
	for _, s := range m.byKind("Service") {
		sel := obj(s, "spec", "selector")
		found := false
		for _, w := range m.workloads() {
			labels := obj(w.meta, "labels")
			ok := len(sel) > 0
			for k, v := range sel {
				ok = ok && labels[k] == v
			}
			if !ok {
				continue
			}
			found = true
			for _, p := range list(s, "spec", "ports") {
				named := false
				for _, c := range w.containers() {
					for _, cp := range list(c, "ports") {
						named = named || str(cp, "name") == str(p, "targetPort")
					}
				}
				if !named {
					t.Errorf("%s targets port %q, which %s does not name", s.id(), str(p, "targetPort"), w.owner.id())
				}
			}
		}
		if !found {
			t.Errorf("%s selects no rendered workload", s.id())
		}
	}
	for _, ing := range m.byKind("Ingress") {
		paths := 0
		for _, r := range list(ing, "spec", "rules") {
			for _, p := range list(r, "http", "paths") {
				paths++
				if svc := str(p, "backend", "service", "name"); m.find("Service", svc) == nil {
					t.Errorf("%s routes %s to Service %q, which is not rendered", ing.id(), str(p, "path"), svc)
				}
			}
		}
		if paths == 0 {
			t.Errorf("%s routes nothing", ing.id())
		}
	}
}

// checkConfig loads each rendered custody configuration through
// config.Load with the environment of the containers that mount it
// (secretKeyRefs resolved from rendered Secrets, or placeholders for an
// existing Secret), so the chart can only render configurations custody
// accepts.
func checkConfig(t *testing.T, m manifests, vs valueSet) {
	cms := map[string]string{}
	for _, cm := range m.byKind("ConfigMap") {
		if text := str(cm, "data", "config.yaml"); text != "" {
			cms[cm.name()] = text
		}
	}
	if len(cms) == 0 {
		t.Fatal("no ConfigMap holds config.yaml")
	}
	loaded := 0
	for _, w := range m.workloads() {
		cmName := ""
		for _, v := range list(w.pod, "volumes") {
			if n := str(v, "configMap", "name"); n != "" {
				cmName = n
			}
		}
		text, ok := cms[cmName]
		if !ok {
			t.Errorf("%s mounts ConfigMap %q, which holds no config.yaml", w.owner.id(), cmName)
			continue
		}
		for _, c := range w.containers() {
			cid := w.owner.id() + " container " + str(c, "name")
			environ := containerEnv(t, m, c)
			path := filepath.Join(t.TempDir(), "config.yaml")
			if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
			if want := "CUSTODY_CONFIG=" + configMountPath(c, w); !slices.Contains(environ, want) {
				t.Errorf("%s: environment lacks %s (where the ConfigMap is mounted)", cid, want)
			}
			cfg, err := config.Load(path, environ)
			loaded++
			if vs.configErr != nil {
				if err == nil {
					t.Errorf("%s: configuration loaded, want an error matching %s", cid, vs.configErr)
				} else if !vs.configErr.MatchString(err.Error()) {
					t.Errorf("%s: config error %q does not match %s", cid, err, vs.configErr)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s: custody rejects the rendered configuration: %v\n%s", cid, err, text)
				continue
			}
			if vs.check != nil {
				vs.check(t, cfg)
			}
		}
	}
	if loaded == 0 {
		t.Error("no container loads a configuration")
	}
	if a, b := cms["custody"], cms["custody-migrations"]; b != "" && a != b {
		t.Errorf("the migrations hook's configuration differs from the release's:\n%s\n---\n%s", b, a)
	}
}

// containerEnv is a container's environment in os.Environ form, with
// secretKeyRefs resolved from the rendered Secrets (a placeholder for a
// Secret outside the chart).
func containerEnv(t *testing.T, m manifests, c map[string]any) []string {
	t.Helper()
	var env []string
	for _, e := range list(c, "env") {
		n := str(e, "name")
		if v, ok := get(e, "value").(string); ok {
			env = append(env, n+"="+v)
			continue
		}
		ref := obj(e, "valueFrom", "secretKeyRef")
		if len(ref) == 0 {
			continue
		}
		s := m.find("Secret", str(ref, "name"))
		if s == nil {
			env = append(env, n+"=from-existing-secret")
			continue
		}
		enc := str(s, "data", str(ref, "key"))
		if enc == "" {
			if get(ref, "optional") != true {
				t.Errorf("%s: Secret %s has no key %q", n, s.name(), str(ref, "key"))
			}
			continue
		}
		b, err := base64.StdEncoding.DecodeString(enc)
		if err != nil {
			t.Errorf("Secret %s key %s is not base64: %v", s.name(), str(ref, "key"), err)
		}
		env = append(env, n+"="+string(b))
	}
	return env
}

// configMountPath is where container c sees config.yaml.
func configMountPath(c map[string]any, w workload) string {
	for _, v := range list(w.pod, "volumes") {
		if str(v, "configMap", "name") == "" {
			continue
		}
		for _, vm := range list(c, "volumeMounts") {
			if str(vm, "name") == str(v, "name") {
				for _, it := range list(v, "configMap", "items") {
					if str(it, "key") == "config.yaml" {
						return filepath.Join(str(vm, "mountPath"), str(it, "path"))
					}
				}
			}
		}
	}
	return ""
}
