{{/*
custody.deployment renders the Deployment of a stateless role:
(dict "root" $ "component" "ingest" "values" .Values.ingest).
*/}}
{{- define "custody.deployment" -}}
{{- $root := .root -}}
{{- $c := .values -}}
{{- $sel := dict "root" $root "component" .component -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "custody.component" $sel }}
  labels:
    {{- include "custody.componentLabels" $sel | nindent 4 }}
spec:
  {{- if not $c.autoscaling.enabled }}
  replicas: {{ $c.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "custody.selectorLabels" $sel | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 1
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "custody.selectorLabels" $sel | nindent 8 }}
        {{- with $root.Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/config: {{ include "custody.configChecksum" $root }}
        checksum/secret: {{ include "custody.secretChecksum" $root }}
        {{- with $root.Values.podAnnotations }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
    spec:
      {{- include "custody.podCommon" $root | nindent 6 }}
      terminationGracePeriodSeconds: {{ $c.terminationGracePeriodSeconds }}
      containers:
        - name: {{ .component }}
          image: {{ include "custody.image" (dict "root" $root "image" $c.image "what" (printf "%s.image" .component)) | quote }}
          imagePullPolicy: {{ include "custody.pullPolicy" (dict "root" $root "image" $c.image) }}
          workingDir: {{ $root.Values.dataDir }}
          command:
            {{- toYaml $c.command | nindent 12 }}
          {{- with $c.args }}
          args:
            {{- toYaml . | nindent 12 }}
          {{- end }}
          ports:
            - name: http
              containerPort: {{ $root.Values.http.port }}
              protocol: TCP
          env:
            {{- include "custody.env" $root | nindent 12 }}
            {{- if eq .component "ingest" }}
            {{- include "custody.env.kafka" $root | nindent 12 }}
            {{- end }}
          {{- include "custody.probes" $root | nindent 10 }}
          resources:
            {{- toYaml $c.resources | nindent 12 }}
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          volumeMounts:
            {{- include "custody.volumeMounts" $root | nindent 12 }}
            - name: data
              mountPath: {{ $root.Values.dataDir }}
      volumes:
        {{- include "custody.volumes" (dict "root" $root "configMap" (include "custody.fullname" $root)) | nindent 8 }}
        # Stateless: nothing here outlives the pod (keys and tokens come
        # from the Secret and the configuration).
        - name: data
          emptyDir:
            sizeLimit: 1Gi
      {{- with $c.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with $c.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{/* custody.service: (dict "root" $ "component" "ingest" "values" .Values.ingest). */}}
{{- define "custody.service" -}}
{{- $sel := dict "root" .root "component" .component -}}
apiVersion: v1
kind: Service
metadata:
  name: {{ include "custody.component" $sel }}
  labels:
    {{- include "custody.componentLabels" $sel | nindent 4 }}
  {{- with .values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  type: {{ .values.service.type }}
  selector:
    {{- include "custody.selectorLabels" $sel | nindent 4 }}
  ports:
    - name: http
      port: {{ .values.service.port }}
      targetPort: http
      protocol: TCP
{{- end -}}

{{/* custody.hpa: (dict "root" $ "component" "ingest" "values" .Values.ingest). */}}
{{- define "custody.hpa" -}}
{{- $sel := dict "root" .root "component" .component -}}
{{- $a := .values.autoscaling -}}
{{- if gt (int $a.minReplicas) (int $a.maxReplicas) -}}
{{- fail (printf "%s.autoscaling: minReplicas (%d) must not exceed maxReplicas (%d)" .component (int $a.minReplicas) (int $a.maxReplicas)) -}}
{{- end -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "custody.component" $sel }}
  labels:
    {{- include "custody.componentLabels" $sel | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "custody.component" $sel }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- if $a.targetCPUUtilizationPercentage }}
    - type: Resource
      resource:
        name: cpu
        target:
          type: Utilization
          averageUtilization: {{ $a.targetCPUUtilizationPercentage }}
    {{- end }}
    {{- with $a.metrics }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end -}}

{{/* custody.pdb: (dict "root" $ "component" "ingest" "values" .Values.ingest). */}}
{{- define "custody.pdb" -}}
{{- $sel := dict "root" .root "component" .component -}}
{{- $p := .values.podDisruptionBudget -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "custody.component" $sel }}
  labels:
    {{- include "custody.componentLabels" $sel | nindent 4 }}
spec:
  {{- if hasKey $p "minAvailable" }}
  minAvailable: {{ $p.minAvailable }}
  {{- else }}
  maxUnavailable: {{ $p.maxUnavailable }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "custody.selectorLabels" $sel | nindent 6 }}
{{- end -}}
