{{- define "tracejob.name" -}}tracejob-operator{{- end -}}
{{- define "tracejob.labels" -}}
app.kubernetes.io/name: tracejob-operator
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ .Chart.Name }}-{{ .Chart.Version }}
{{- end -}}
{{- define "tracejob.selector" -}}
app.kubernetes.io/name: tracejob-operator
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}
