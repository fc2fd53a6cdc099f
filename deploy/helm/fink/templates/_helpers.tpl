{{/* Names and labels. */}}
{{- define "fink.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fink.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "fink.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "fink.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: fink
{{- end }}

{{/* Selector of one service's pods: (dict "root" $ "component" "raw2science"). */}}
{{- define "fink.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fink.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{- define "fink.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "fink.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "fink.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/*
Prometheus port of a pipeline service: the broker's service i listens on pipeline.metricsPort + i, i its index in
SERVICE_NAMES (src/cli/services.ts: clickhouse, kafka, stream2raw, raw2science, distribution, ...).
test/integration/deploy-chart.test.ts checks these offsets against SERVICE_NAMES.
*/}}
{{- define "fink.metricsPort" -}}
{{- $offsets := dict "stream2raw" 2 "raw2science" 3 "distribution" 4 }}
{{- add (int .root.Values.pipeline.metricsPort) (get $offsets .component) }}
{{- end }}

{{/* Kafka: the Strimzi resource's name, and the bootstrap servers the services use (a JSON list). */}}
{{- define "fink.kafkaName" -}}
{{- default (printf "%s-kafka" (include "fink.fullname" .)) .Values.kafka.strimzi.name | trunc 50 | trimSuffix "-" }}
{{- end }}

{{- define "fink.kafkaBrokers" -}}
{{- if .Values.kafka.strimzi.enabled }}
{{- list (printf "%s-kafka-bootstrap:9092" (include "fink.kafkaName" .)) | toJson }}
{{- else }}
{{- .Values.kafka.brokers | toJson }}
{{- end }}
{{- end }}

{{/* ClickHouse: the Altinity installation's names, the HTTP URL and the cluster name of the broker's config. */}}
{{- define "fink.chiName" -}}
{{- default (printf "%s-ch" (include "fink.fullname" .)) .Values.clickhouse.altinity.name | trunc 50 | trimSuffix "-" }}
{{- end }}

{{- define "fink.chkName" -}}
{{- default (printf "%s-keeper" (include "fink.fullname" .)) .Values.clickhouse.altinity.keeper.name | trunc 50 | trimSuffix "-" }}
{{- end }}

{{- define "fink.clickhouseUrl" -}}
{{- if .Values.clickhouse.altinity.enabled }}
{{- printf "http://clickhouse-%s:8123" (include "fink.chiName" .) }}
{{- else }}
{{- .Values.clickhouse.url }}
{{- end }}
{{- end }}

{{- define "fink.clickhouseCluster" -}}
{{- if .Values.clickhouse.cluster }}
{{- .Values.clickhouse.cluster }}
{{- else if .Values.clickhouse.altinity.enabled }}
{{- .Values.clickhouse.altinity.clusterName }}
{{- end }}
{{- end }}

{{/* The Secret holding the ClickHouse password, if any. */}}
{{- define "fink.secretName" -}}
{{- if .Values.secrets.existingSecret }}
{{- .Values.secrets.existingSecret }}
{{- else if .Values.secrets.password }}
{{- include "fink.fullname" . }}
{{- end }}
{{- end }}

{{/* Values that cannot work together fail the render with the key to change. */}}
{{- define "fink.validate" -}}
{{- if and .Values.kafka.strimzi.enabled .Values.kafka.brokers }}
{{- fail "kafka.brokers and kafka.strimzi.enabled: give one (with kafka.strimzi.enabled set kafka.brokers to [])" }}
{{- end }}
{{- if not (or .Values.kafka.strimzi.enabled .Values.kafka.brokers) }}
{{- fail "kafka.brokers: the bootstrap servers of the external Kafka are needed (or set kafka.strimzi.enabled)" }}
{{- end }}
{{- if and .Values.clickhouse.altinity.enabled .Values.clickhouse.url }}
{{- fail "clickhouse.url and clickhouse.altinity.enabled: give one (with clickhouse.altinity.enabled set clickhouse.url to '')" }}
{{- end }}
{{- if not (or .Values.clickhouse.altinity.enabled .Values.clickhouse.url) }}
{{- fail "clickhouse.url: the HTTP URL of the external ClickHouse is needed (or set clickhouse.altinity.enabled)" }}
{{- end }}
{{- if and .Values.clickhouse.altinity.enabled (not (include "fink.secretName" .)) }}
{{- fail "secrets.password or secrets.existingSecret: the ClickHouse installation's fink user needs a password" }}
{{- end }}
{{- if and .Values.clickhouse.altinity.enabled (not .Values.clickhouse.altinity.keeper.enabled) (not .Values.clickhouse.altinity.zookeeper.nodes) }}
{{- fail "clickhouse.altinity.zookeeper.nodes: replicas need ZooKeeper nodes when clickhouse.altinity.keeper.enabled is false" }}
{{- end }}
{{- end }}

{{/*
The broker's config file (src/config.ts): external ClickHouse and Kafka, the state directory on the pod's /tmp,
the models baked into the image, metrics and server on the pod's address; .Values.config merged last.
*/}}
{{- define "fink.config" -}}
{{- $v := .Values }}
{{- $clickhouse := dict "mode" "external" "url" (include "fink.clickhouseUrl" .) "database" $v.clickhouse.database "username" $v.clickhouse.username "requestTimeoutMs" (int $v.clickhouse.requestTimeoutMs) }}
{{- with (include "fink.clickhouseCluster" .) }}
{{- $_ := set $clickhouse "cluster" . }}
{{- end }}
{{- $kafka := dict "mode" "external" "brokers" (include "fink.kafkaBrokers" . | fromJsonArray) "clientId" $v.kafka.clientId "maxRequestBytes" (int $v.kafka.maxRequestBytes) "defaultPartitions" (int $v.kafka.defaultPartitions) "cacheDir" "/tmp/fink/cache" }}
{{- $rubinSchemas := dict }}
{{- if $v.pipeline.rubinSchemas.existingConfigMap }}
{{- $_ := set $rubinSchemas (toString $v.pipeline.rubinSchemas.schemaId) "/opt/fink/schemas/rubin" }}
{{- end }}
{{- $pipeline := dict "topics" $v.pipeline.topics "fromBeginning" $v.pipeline.fromBeginning "groupPrefix" $v.pipeline.groupPrefix "scienceTopic" $v.pipeline.scienceTopic "distributionPrefix" $v.pipeline.distributionPrefix "deadLetterTopic" $v.pipeline.deadLetterTopic "batchMaxMessages" (int $v.pipeline.batchMaxMessages) "batchMaxAgeMs" (int $v.pipeline.batchMaxAgeMs) "sessionTimeoutMs" (int $v.pipeline.sessionTimeoutMs) "rubinSchemas" $rubinSchemas "metricsPort" (int $v.pipeline.metricsPort) "metricsHost" "0.0.0.0" }}
{{- with $v.pipeline.schemaRegistryUrl }}
{{- $_ := set $pipeline "schemaRegistryUrl" . }}
{{- end }}
{{- $server := dict "host" "0.0.0.0" "port" (int $v.server.port) "maxHeapMb" (int $v.server.maxHeapMb) "anonymousRead" $v.server.anonymousRead }}
{{- with $v.server.publicUrl }}
{{- $_ := set $server "publicUrl" . }}
{{- end }}
{{- $config := dict "stateDir" "/tmp/fink" "sharedDir" "/opt/fink/shared" "clickhouse" $clickhouse "kafka" $kafka "pipeline" $pipeline "server" $server "models" (dict "cacheDir" "/opt/fink/models") "log" (dict "level" $v.log.level) }}
{{- mustMergeOverwrite $config (deepCopy $v.config) | toYaml }}
{{- end }}

{{/* What every pod of the broker shares: service account, security, the config file, /tmp. */}}
{{- define "fink.podSpecCommon" -}}
serviceAccountName: {{ include "fink.serviceAccountName" . }}
automountServiceAccountToken: false
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/* Volumes of a pod: (dict "root" $ "configMap" <name>). */}}
{{- define "fink.volumes" -}}
volumes:
  - name: config
    configMap:
      name: {{ .configMap }}
  - name: tmp
    emptyDir: {}
  {{- with .root.Values.pipeline.rubinSchemas.existingConfigMap }}
  - name: rubin-schemas
    configMap:
      name: {{ . }}
  {{- end }}
{{- end }}

{{- define "fink.volumeMounts" -}}
volumeMounts:
  - name: config
    mountPath: /etc/fink
    readOnly: true
  - name: tmp
    mountPath: /tmp
  {{- if .Values.pipeline.rubinSchemas.existingConfigMap }}
  - name: rubin-schemas
    mountPath: /opt/fink/schemas/rubin
    readOnly: true
  {{- end }}
{{- end }}

{{/* Environment of a container: the config file and the password (a secretKeyRef, never in the ConfigMap). */}}
{{- define "fink.env" -}}
env:
  - name: FINK_CONFIG
    value: /etc/fink/fink.yaml
  {{- with (include "fink.secretName" .) }}
  - name: FINK_CLICKHOUSE__PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ . }}
        key: {{ $.Values.secrets.passwordKey }}
  {{- end }}
{{- end }}
