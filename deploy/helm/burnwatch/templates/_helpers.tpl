{{/* The chart's name, or nameOverride. */}}
{{- define "burnwatch.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The objects' name: the release name, with the chart's name unless it holds it already. */}}
{{- define "burnwatch.fullname" -}}
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

{{/* The labels that select the pods; never changed after an install. */}}
{{- define "burnwatch.selectorLabels" -}}
app.kubernetes.io/name: {{ include "burnwatch.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The labels of every object. */}}
{{- define "burnwatch.labels" -}}
{{ include "burnwatch.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: burnwatch
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{- define "burnwatch.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "burnwatch.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The Secret mounted at /etc/burnwatch/secrets, or nothing. */}}
{{- define "burnwatch.secretName" -}}
{{- if .Values.secrets.existingSecret -}}
{{- .Values.secrets.existingSecret -}}
{{- else if .Values.secrets.create -}}
{{- include "burnwatch.fullname" . -}}
{{- end -}}
{{- end -}}

{{/*
"true" when the replicas elect a leader. More than one replica without an
election would page everything twice: the chart refuses it.
*/}}
{{- define "burnwatch.leaderElection" -}}
{{- if and (gt (int .Values.replicaCount) 1) (not .Values.leaderElection.enabled) -}}
{{- fail "replicaCount > 1 needs leaderElection.enabled=true: without a leader every replica would send every notification" -}}
{{- end -}}
{{- if .Values.leaderElection.enabled -}}true{{- end -}}
{{- end -}}

{{- define "burnwatch.leaseName" -}}
{{- default (printf "%s-leader" (include "burnwatch.fullname" .)) .Values.leaderElection.leaseName -}}
{{- end -}}
