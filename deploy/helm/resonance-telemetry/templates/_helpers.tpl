{{/* The chart's name, and the release-qualified name of its objects. */}}
{{- define "resonance.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "resonance.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 50 | trimSuffix "-" -}}
{{- else if contains (include "resonance.name" .) .Release.Name -}}
{{- .Release.Name | trunc 50 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name (include "resonance.name" .) | trunc 50 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels of every object; "component" is exporter or relay where it applies. */}}
{{- define "resonance.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "resonance.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "relay"). */}}
{{- define "resonance.selectorLabels" -}}
app.kubernetes.io/name: {{ include "resonance.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "resonance.componentLabels" -}}
{{ include "resonance.labels" .root }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The image of a component: its repository, and its tag or the chart's appVersion. */}}
{{- define "resonance.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* The Secret a component reads its key files from. */}}
{{- define "resonance.exporter.secretName" -}}
{{- default (printf "%s-exporter" (include "resonance.fullname" .)) .Values.exporter.secret.name -}}
{{- end -}}
{{- define "resonance.relay.secretName" -}}
{{- default (printf "%s-relay" (include "resonance.fullname" .)) .Values.relay.secret.name -}}
{{- end -}}

{{/*
The config a component runs on: the shipped file (deploy/config, copied into
files/ by the generator) unless values replace it.
*/}}
{{- define "resonance.config" -}}
{{- if .values.config -}}
{{- toYaml .values.config -}}
{{- else -}}
{{- .root.Files.Get .file -}}
{{- end -}}
{{- end -}}

{{/*
"true" when a prometheus-operator object of API version .api may be
rendered: the cluster serves that API, or prometheusOperator.requireAPI is
false. (dict "root" $ "api" "monitoring.coreos.com/v1")
*/}}
{{- define "resonance.operatorAPI" -}}
{{- if or (not .root.Values.prometheusOperator.requireAPI) (.root.Capabilities.APIVersions.Has .api) -}}
true
{{- end -}}
{{- end -}}

{{/*
The rule group watching the ritual CronJobs through kube-state-metrics: the
rule pack's RitualMissed reads the relay's own ritual gauge, which a CronJob
run does not set. A ritual fires when its CronJob has not succeeded within
its period plus 60 minutes (the pack's), or never since it was created.
*/}}
{{- define "resonance.ritualRules" -}}
{{- $periods := dict "morning" 86400 "evening" 86400 "weekly" 604800 "monthly" 2678400 }}
{{- $terms := list }}
{{- range $name := list "morning" "evening" "weekly" "monthly" }}
{{- if (index $.Values.rituals.schedule $name).enabled }}
{{- $sel := printf "namespace=%q,cronjob=\"%s-ritual-%s\"" $.Release.Namespace (include "resonance.fullname" $) $name }}
{{- $by := "max by (cluster, namespace, cronjob)" }}
{{- $terms = append $terms (printf "    time() - %s (kube_cronjob_status_last_successful_time{%s}) > %v + 3600\n  or\n    (time() - %s (kube_cronjob_created{%s}) > %v + 3600)\n      unless on (cluster, namespace, cronjob) kube_cronjob_status_last_successful_time{%s}" $by $sel (index $periods $name) $by $sel (index $periods $name) $sel) }}
{{- end }}
{{- end }}
{{- if $terms }}
name: resonance.rituals.kubernetes
rules:
  - alert: RitualMissed
    expr: |-
      label_replace(
        (
      {{- range $i, $t := $terms }}
      {{- if $i }}
          or
      {{- end }}
      {{- $t | nindent 6 }}
      {{- end }}
        ) / 60,
        "ritual", "$1", "cronjob", ".*-ritual-(.+)"
      )
    labels:
      metric: ritual_missed
      severity: warning
    annotations:
      current_value: '{{ "{{" }} printf "%.0f" $value {{ "}}" }}'
      description: 'Ritual {{ "{{" }} $labels.ritual {{ "}}" }} (CronJob {{ "{{" }} $labels.cronjob {{ "}}" }}) last succeeded {{ "{{" }} printf "%.0f" $value {{ "}}" }} min ago, or never since it was created: more than its period plus 60 min'
      runbook_url: https://github.com/quantum-resonance/telemetry/blob/main/docs/runbooks.md#ritualmissed
      summary: Ritual missed on Kubernetes
      threshold: "60"
{{- end }}
{{- end -}}
