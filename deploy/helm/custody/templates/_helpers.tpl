{{/* Names ---------------------------------------------------------------- */}}

{{- define "custody.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "custody.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* A component's resource name: custody.component (dict "root" $ "component" "ingest"). */}}
{{- define "custody.component" -}}
{{- printf "%s-%s" (include "custody.fullname" .root) .component | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "custody.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "custody.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "custody.secretName" -}}
{{- default (include "custody.fullname" .) .Values.security.existingSecret -}}
{{- end -}}

{{/* Labels --------------------------------------------------------------- */}}

{{- define "custody.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
app.kubernetes.io/name: {{ include "custody.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: custody
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Selector labels of a component: (dict "root" $ "component" "ingest"). */}}
{{- define "custody.selectorLabels" -}}
app.kubernetes.io/name: {{ include "custody.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "custody.componentLabels" -}}
{{ include "custody.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Image ---------------------------------------------------------------- */}}

{{/*
custody.image renders a pinned image reference for (dict "root" $ "image" .Values.ingest.image "what" "ingest.image"):
the component's repository/tag/digest over the global image. A missing tag,
"latest", or a malformed digest fails the render.
*/}}
{{- define "custody.image" -}}
{{- $img := mergeOverwrite (deepCopy .root.Values.image) (default dict .image) -}}
{{- if not $img.repository -}}
{{- fail (printf "%s.repository (or image.repository): is required" .what) -}}
{{- end -}}
{{- $tag := toString (default "" $img.tag) -}}
{{- if not $tag -}}
{{- fail (printf "%s.tag (or image.tag): is required; pin a release tag, never latest" .what) -}}
{{- end -}}
{{- if eq (lower $tag) "latest" -}}
{{- fail (printf "%s.tag: \"latest\" is not allowed; pin a release tag (and a digest)" .what) -}}
{{- end -}}
{{- if contains ":" $img.repository | and (not (contains "/" (last (splitList ":" $img.repository)))) -}}
{{- fail (printf "%s.repository: %q must not carry a tag; use %s.tag" .what $img.repository .what) -}}
{{- end -}}
{{- if $img.digest -}}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" $img.digest) -}}
{{- fail (printf "%s.digest: must be sha256:<64 lowercase hex>, got %q" .what $img.digest) -}}
{{- end -}}
{{- printf "%s:%s@%s" $img.repository $tag $img.digest -}}
{{- else -}}
{{- printf "%s:%s" $img.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "custody.pullPolicy" -}}
{{- $img := mergeOverwrite (deepCopy .root.Values.image) (default dict .image) -}}
{{- default "IfNotPresent" $img.pullPolicy -}}
{{- end -}}

{{/* Validation ------------------------------------------------------------ */}}

{{/*
custody.validate fails the render with a message naming the value and the
reason. Every template that renders a workload includes it.
*/}}
{{- define "custody.validate" -}}
{{- $v := .Values -}}
{{- if or (not (isAbs $v.configPath)) (eq (dir $v.configPath) "/") (hasPrefix (printf "%s/" (dir $v.configPath)) (printf "%s/" $v.dataDir)) -}}
{{- fail (printf "configPath: must be an absolute file path in a directory of its own (the ConfigMap volume), got %q" $v.configPath) -}}
{{- end -}}
{{- if not (isAbs $v.dataDir) -}}
{{- fail (printf "dataDir: must be an absolute path, got %q" $v.dataDir) -}}
{{- end -}}
{{- range $i, $k := $v.security.previousMasterKeys -}}
{{- if not (regexMatch "^[A-Za-z0-9+/_-]{43}=?$" (toString $k)) -}}
{{- fail (printf "security.previousMasterKeys[%d]: must be base64 of exactly 32 bytes (the master key being retired)" $i) -}}
{{- end -}}
{{- end -}}
{{- if and $v.security.previousMasterKeys (not (or $v.security.existingSecret $v.security.masterKey)) -}}
{{- fail "security.previousMasterKeys: set together with security.masterKey (the new, active key)" -}}
{{- end -}}
{{- if and $v.security.existingSecret (or $v.security.masterKey $v.security.identifierKey $v.clickhouse.password $v.security.previousMasterKeys) -}}
{{- fail "security.existingSecret is set: leave security.masterKey, security.identifierKey, security.previousMasterKeys and clickhouse.password empty (they belong in the existing Secret)" -}}
{{- end -}}
{{- range $k, $s := dict "security.masterKey" $v.security.masterKey "security.identifierKey" $v.security.identifierKey -}}
{{- if and $s (not (regexMatch "^[A-Za-z0-9+/_-]{43}=?$" $s)) -}}
{{- fail (printf "%s: must be base64 of exactly 32 bytes (openssl rand -base64 32)" $k) -}}
{{- end -}}
{{- end -}}
{{- if and (or $v.security.masterKey $v.security.identifierKey) (not (and $v.security.masterKey $v.security.identifierKey)) -}}
{{- fail "security.masterKey and security.identifierKey: give both or neither" -}}
{{- end -}}
{{- range $i, $t := $v.auth.tokens -}}
{{- if or (not $t.name) (not (has $t.role (list "publisher" "analyst" "admin"))) (not (regexMatch "^[a-f0-9]{64}$" (toString $t.sha256))) -}}
{{- fail (printf "auth.tokens[%d]: needs name, role (publisher, analyst or admin) and sha256 (64 lowercase hex; `custody token new` prints it)" $i) -}}
{{- end -}}
{{- end -}}
{{- if not $v.singleNode.enabled -}}
{{- if not (or $v.security.existingSecret $v.security.masterKey) -}}
{{- fail "security.masterKey and security.identifierKey (or security.existingSecret) are required when singleNode is off: every replica must share the same keys" -}}
{{- end -}}
{{- if and (not $v.auth.tokens) (not $v.dev) -}}
{{- fail "auth.tokens: at least one token is required when singleNode is off (replicas cannot share generated tokens); `custody token new` prints an entry" -}}
{{- end -}}
{{- if not $v.clickhouse.addrs -}}
{{- fail "clickhouse.addrs: at least one host:port of the native protocol is required when singleNode is off" -}}
{{- end -}}
{{- if and $v.clickhouse.cluster.replicated (not $v.clickhouse.cluster.name) -}}
{{- fail "clickhouse.cluster.name: is required when clickhouse.cluster.replicated is true" -}}
{{- end -}}
{{- if and $v.clickhouse.cluster.sharded (not (and $v.clickhouse.cluster.name $v.clickhouse.cluster.replicated)) -}}
{{- fail "clickhouse.cluster.sharded: needs clickhouse.cluster.name and clickhouse.cluster.replicated: true" -}}
{{- end -}}
{{- if and $v.clickhouse.tls.caSecret.name (not $v.clickhouse.tls.enabled) -}}
{{- fail "clickhouse.tls.caSecret: set clickhouse.tls.enabled: true to use it" -}}
{{- end -}}
{{- if eq $v.broker.mode "nats" -}}
{{- if not $v.broker.nats.urls -}}
{{- fail "broker.nats.urls: at least one server URL is required when broker.mode is nats (e.g. nats://nats-0.nats:4222)" -}}
{{- end -}}
{{- if and $v.broker.nats.credsSecret.name $v.broker.nats.nkeySecret.name -}}
{{- fail "broker.nats.credsSecret and broker.nats.nkeySecret: set one, not both" -}}
{{- end -}}
{{- if ne (empty $v.broker.nats.tls.certKey) (empty $v.broker.nats.tls.keyKey) -}}
{{- fail "broker.nats.tls.certKey and broker.nats.tls.keyKey go together" -}}
{{- end -}}
{{- if and (or $v.broker.nats.tls.certKey $v.broker.nats.tls.keyKey) (not $v.broker.nats.tls.secretName) -}}
{{- fail "broker.nats.tls.secretName: is required with certKey/keyKey" -}}
{{- end -}}
{{- $r := int $v.broker.nats.replicas -}}
{{- if or (lt $r 1) (gt $r 5) -}}
{{- fail (printf "broker.nats.replicas: must be 1..5, got %d" $r) -}}
{{- end -}}
{{- else if eq $v.broker.mode "kafka" -}}
{{- $k := $v.broker.kafka -}}
{{- if not $k.brokers -}}
{{- fail "broker.kafka.brokers: at least one host:port is required when broker.mode is kafka" -}}
{{- end -}}
{{- $p := int $k.partitions -}}
{{- if or (lt $p 1) (gt $p 10000) -}}
{{- fail (printf "broker.kafka.partitions: must be 1..10000, got %d" $p) -}}
{{- end -}}
{{- $rf := int $k.replicationFactor -}}
{{- if or (lt $rf 1) (gt $rf 32) -}}
{{- fail (printf "broker.kafka.replicationFactor: must be 1..32 (3 in production), got %d" $rf) -}}
{{- end -}}
{{- if ne (empty $k.tls.certKey) (empty $k.tls.keyKey) -}}
{{- fail "broker.kafka.tls.certKey and broker.kafka.tls.keyKey go together" -}}
{{- end -}}
{{- if and (or $k.tls.certKey $k.tls.keyKey) (not $k.tls.secretName) -}}
{{- fail "broker.kafka.tls.secretName: is required with certKey/keyKey" -}}
{{- end -}}
{{- if $k.sasl.mechanism -}}
{{- if not (has $k.sasl.mechanism (list "PLAIN" "SCRAM-SHA-256" "SCRAM-SHA-512")) -}}
{{- fail (printf "broker.kafka.sasl.mechanism: must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512, got %q" $k.sasl.mechanism) -}}
{{- end -}}
{{- if not $k.sasl.username -}}
{{- fail "broker.kafka.sasl.username: is required with broker.kafka.sasl.mechanism" -}}
{{- end -}}
{{- if and $k.sasl.password $k.sasl.passwordSecret.name -}}
{{- fail "broker.kafka.sasl.password and broker.kafka.sasl.passwordSecret: set one, not both" -}}
{{- end -}}
{{- if and $k.sasl.password $v.security.existingSecret -}}
{{- fail "security.existingSecret is set: leave broker.kafka.sasl.password empty (put it in the existing Secret under security.secretKeys.kafkaPassword)" -}}
{{- end -}}
{{- if not (or $k.sasl.password $k.sasl.passwordSecret.name $v.security.existingSecret) -}}
{{- fail "broker.kafka.sasl: a password is required with a mechanism: set passwordSecret (a Secret you manage), security.existingSecret, or password" -}}
{{- end -}}
{{- else if or $k.sasl.username $k.sasl.password $k.sasl.passwordSecret.name -}}
{{- fail "broker.kafka.sasl.mechanism: is required with a username or password (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)" -}}
{{- end -}}
{{- else -}}
{{- fail (printf "broker.mode: must be nats or kafka when singleNode is off, got %q" $v.broker.mode) -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Configuration --------------------------------------------------------- */}}

{{/*
custody.config renders the custody configuration file (internal/config
keys). Secrets are not in it: they arrive as CUSTODY_* environment
variables from the Secret.
*/}}
{{- define "custody.config" -}}
{{- $v := .Values -}}
{{- $cfg := dict
  "data_dir" $v.dataDir
  "dev" $v.dev
  "log" (dict "level" $v.log.level "format" $v.log.format)
  "http" (dict
    "addr" (printf "0.0.0.0:%d" (int $v.http.port))
    "read_timeout" $v.http.readTimeout
    "write_timeout" $v.http.writeTimeout
    "shutdown_timeout" $v.http.shutdownTimeout)
  "ingest" (dict "max_body_bytes" (int64 $v.ingestLimits.maxBodyBytes) "max_events" (int $v.ingestLimits.maxEvents))
-}}
{{- if $v.auth.tokens -}}
{{- $tokens := list -}}
{{- range $v.auth.tokens -}}
{{- $tokens = append $tokens (dict "name" .name "role" .role "sha256" .sha256) -}}
{{- end -}}
{{- $_ := set $cfg "auth" (dict "tokens" $tokens) -}}
{{- end -}}
{{- if $v.singleNode.enabled -}}
{{- $_ := set $cfg "clickhouse" (dict "transport" "embedded" "embedded" (dict "connections" (int $v.singleNode.connections))) -}}
{{- $_ := set $cfg "broker" (dict "mode" "embedded") -}}
{{- /* Keys from the Secret when given; otherwise generated on the volume. */ -}}
{{- $_ := set $cfg "security" (dict "generate_keys" (not (or $v.security.existingSecret $v.security.masterKey))) -}}
{{- else -}}
{{- $native := dict
  "addrs" $v.clickhouse.addrs
  "database" $v.clickhouse.database
  "username" $v.clickhouse.username
  "compression" $v.clickhouse.compression
  "tls" $v.clickhouse.tls.enabled
-}}
{{- if $v.clickhouse.tls.caSecret.name -}}
{{- $_ := set $native "ca_file" (printf "/etc/custody/clickhouse-tls/%s" $v.clickhouse.tls.caSecret.key) -}}
{{- end -}}
{{- $ch := dict "transport" "native" "native" $native -}}
{{- if $v.clickhouse.cluster.name -}}
{{- $cl := dict "name" $v.clickhouse.cluster.name "replicated" $v.clickhouse.cluster.replicated -}}
{{- with $v.clickhouse.cluster.replicaPath }}{{ $_ := set $cl "replica_path" . }}{{ end -}}
{{- with $v.clickhouse.cluster.replicaName }}{{ $_ := set $cl "replica_name" . }}{{ end -}}
{{- if $v.clickhouse.cluster.sharded }}{{ $_ := set $cl "sharded" true }}{{ end -}}
{{- $_ := set $ch "cluster" $cl -}}
{{- end -}}
{{- $_ := set $cfg "clickhouse" $ch -}}
{{- $_ := set $cfg "security" (dict "generate_keys" false) -}}
{{- if eq $v.broker.mode "nats" -}}
{{- $n := $v.broker.nats -}}
{{- $b := dict "mode" "nats" "urls" $n.urls "stream" $n.stream "subject" $n.subject "durable" $n.durable "replicas" (int $n.replicas) -}}
{{- if $n.credsSecret.name }}{{ $_ := set $b "creds_file" (printf "/etc/custody/nats-auth/%s" $n.credsSecret.key) }}{{ end -}}
{{- if $n.nkeySecret.name }}{{ $_ := set $b "nkey_file" (printf "/etc/custody/nats-auth/%s" $n.nkeySecret.key) }}{{ end -}}
{{- if $n.tls.secretName -}}
{{- with $n.tls.caKey }}{{ $_ := set $b "ca_file" (printf "/etc/custody/nats-tls/%s" .) }}{{ end -}}
{{- with $n.tls.certKey }}{{ $_ := set $b "cert_file" (printf "/etc/custody/nats-tls/%s" .) }}{{ end -}}
{{- with $n.tls.keyKey }}{{ $_ := set $b "key_file" (printf "/etc/custody/nats-tls/%s" .) }}{{ end -}}
{{- end -}}
{{- $_ := set $cfg "broker" $b -}}
{{- else -}}
{{- /* Kafka. The SASL password is not here: it arrives as
       CUSTODY_BROKER_KAFKA_PASSWORD from a Secret. */ -}}
{{- $k := $v.broker.kafka -}}
{{- $kc := dict "brokers" $k.brokers "topic" $k.topic "consumer_group" $k.consumerGroup
  "partitions" (int $k.partitions) "replication_factor" (int $k.replicationFactor) -}}
{{- with $k.retention }}{{ $_ := set $kc "retention" . }}{{ end -}}
{{- if or $k.tls.enabled $k.tls.secretName -}}
{{- $tls := dict "enabled" true -}}
{{- if $k.tls.secretName -}}
{{- with $k.tls.caKey }}{{ $_ := set $tls "ca_file" (printf "/etc/custody/kafka-tls/%s" .) }}{{ end -}}
{{- with $k.tls.certKey }}{{ $_ := set $tls "cert_file" (printf "/etc/custody/kafka-tls/%s" .) }}{{ end -}}
{{- with $k.tls.keyKey }}{{ $_ := set $tls "key_file" (printf "/etc/custody/kafka-tls/%s" .) }}{{ end -}}
{{- end -}}
{{- $_ := set $kc "tls" $tls -}}
{{- end -}}
{{- with $k.sasl.mechanism }}{{ $_ := set $kc "sasl" (dict "mechanism" . "username" $k.sasl.username) }}{{ end -}}
{{- $_ := set $cfg "broker" (dict "mode" "kafka" "kafka" $kc) -}}
{{- end -}}
{{- end -}}
{{- $cfg = mergeOverwrite $cfg (deepCopy $v.extraConfig) -}}
{{- toYaml $cfg -}}
{{- end -}}

{{/* Pods ------------------------------------------------------------------ */}}

{{/* Environment of every Custody container. */}}
{{- define "custody.env" -}}
- name: CUSTODY_CONFIG
  value: {{ .Values.configPath | quote }}
{{- if or .Values.security.existingSecret .Values.security.masterKey }}
- name: CUSTODY_MASTER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "custody.secretName" . }}
      key: {{ .Values.security.secretKeys.masterKey }}
- name: CUSTODY_IDENTIFIER_KEY
  valueFrom:
    secretKeyRef:
      name: {{ include "custody.secretName" . }}
      key: {{ .Values.security.secretKeys.identifierKey }}
- name: CUSTODY_PREVIOUS_MASTER_KEYS
  valueFrom:
    secretKeyRef:
      name: {{ include "custody.secretName" . }}
      key: {{ .Values.security.secretKeys.previousMasterKeys }}
      # Only during a master-key rotation.
      optional: true
{{- end }}
{{- if not .Values.singleNode.enabled }}
{{- if or .Values.security.existingSecret .Values.clickhouse.password }}
- name: CUSTODY_CLICKHOUSE_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "custody.secretName" . }}
      key: {{ .Values.security.secretKeys.clickhousePassword }}
      # A passwordless ClickHouse user needs no key in an existing Secret.
      optional: {{ not .Values.clickhouse.password }}
{{- end }}
{{- else }}
- name: CUSTODY_CHDB_LIB
  value: {{ .Values.singleNode.chdbLibraryPath | quote }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* Volume mounts of every Custody container (not the data volume). */}}
{{- define "custody.volumeMounts" -}}
- name: config
  mountPath: {{ dir .Values.configPath }}
  readOnly: true
- name: tmp
  mountPath: /tmp
{{- if not .Values.singleNode.enabled }}
{{- if .Values.clickhouse.tls.caSecret.name }}
- name: clickhouse-tls
  mountPath: /etc/custody/clickhouse-tls
  readOnly: true
{{- end }}
{{- if eq .Values.broker.mode "nats" }}
{{- if or .Values.broker.nats.credsSecret.name .Values.broker.nats.nkeySecret.name }}
- name: nats-auth
  mountPath: /etc/custody/nats-auth
  readOnly: true
{{- end }}
{{- if .Values.broker.nats.tls.secretName }}
- name: nats-tls
  mountPath: /etc/custody/nats-tls
  readOnly: true
{{- end }}
{{- else if and (eq .Values.broker.mode "kafka") .Values.broker.kafka.tls.secretName }}
- name: kafka-tls
  mountPath: /etc/custody/kafka-tls
  readOnly: true
{{- end }}
{{- end }}
{{- end -}}

{{/* Volumes matching custody.volumeMounts; configMap names the ConfigMap. */}}
{{- define "custody.volumes" -}}
- name: config
  configMap:
    name: {{ .configMap }}
    items:
      - key: config.yaml
        path: {{ base .root.Values.configPath }}
- name: tmp
  emptyDir:
    sizeLimit: 1Gi
{{- $v := .root.Values }}
{{- if not $v.singleNode.enabled }}
{{- with $v.clickhouse.tls.caSecret.name }}
- name: clickhouse-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
    items:
      - key: {{ $v.clickhouse.tls.caSecret.key }}
        path: {{ $v.clickhouse.tls.caSecret.key }}
{{- end }}
{{- if eq $v.broker.mode "nats" }}
{{- $auth := $v.broker.nats.credsSecret }}
{{- if $v.broker.nats.nkeySecret.name }}{{ $auth = $v.broker.nats.nkeySecret }}{{ end }}
{{- if $auth.name }}
- name: nats-auth
  secret:
    secretName: {{ $auth.name }}
    defaultMode: 0440
    items:
      - key: {{ $auth.key }}
        path: {{ $auth.key }}
{{- end }}
{{- with $v.broker.nats.tls.secretName }}
- name: nats-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- else if eq $v.broker.mode "kafka" }}
{{- with $v.broker.kafka.tls.secretName }}
- name: kafka-tls
  secret:
    secretName: {{ . }}
    defaultMode: 0440
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* Probes on the health endpoints of the http port. */}}
{{- define "custody.probes" -}}
{{- $p := .Values.probes -}}
startupProbe:
  httpGet: {path: {{ $p.startup.path }}, port: http}
  periodSeconds: {{ $p.startup.periodSeconds }}
  failureThreshold: {{ $p.startup.failureThreshold }}
  timeoutSeconds: {{ $p.startup.timeoutSeconds }}
livenessProbe:
  httpGet: {path: {{ $p.liveness.path }}, port: http}
  periodSeconds: {{ $p.liveness.periodSeconds }}
  failureThreshold: {{ $p.liveness.failureThreshold }}
  timeoutSeconds: {{ $p.liveness.timeoutSeconds }}
readinessProbe:
  httpGet: {path: {{ $p.readiness.path }}, port: http}
  periodSeconds: {{ $p.readiness.periodSeconds }}
  failureThreshold: {{ $p.readiness.failureThreshold }}
  timeoutSeconds: {{ $p.readiness.timeoutSeconds }}
{{- end -}}

{{/* Pod-level fields shared by every workload. */}}
{{- define "custody.podCommon" -}}
serviceAccountName: {{ include "custody.serviceAccountName" . }}
automountServiceAccountToken: {{ .Values.serviceAccount.automount }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end -}}

{{/* Checksum of the configuration, so pods roll when it changes. */}}
{{- define "custody.configChecksum" -}}
{{- include "custody.config" . | sha256sum -}}
{{- end -}}

{{/* Checksum of the chart-managed Secret, so pods roll when a key changes. */}}
{{- define "custody.secretChecksum" -}}
{{- include (print .Template.BasePath "/secret.yaml") . | sha256sum -}}
{{- end -}}

{{/*
custody.env.kafka is the Kafka SASL password, for the ingest pods only: they
alone talk to the brokers (graphql replicas append to the log directly).
*/}}
{{- define "custody.env.kafka" -}}
{{- if not .Values.singleNode.enabled }}
{{- $sasl := .Values.broker.kafka.sasl }}
{{- if and (eq .Values.broker.mode "kafka") $sasl.mechanism }}
- name: CUSTODY_BROKER_KAFKA_PASSWORD
  valueFrom:
    secretKeyRef:
      {{- if $sasl.passwordSecret.name }}
      name: {{ $sasl.passwordSecret.name }}
      key: {{ $sasl.passwordSecret.key }}
      {{- else }}
      name: {{ include "custody.secretName" . }}
      key: {{ .Values.security.secretKeys.kafkaPassword }}
      {{- end }}
{{- end }}
{{- end }}
{{- end -}}
